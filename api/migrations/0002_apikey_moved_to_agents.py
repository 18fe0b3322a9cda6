# ApiKey now lives in `agents` (see agents/migrations/0003_apikey.py); its table is kept as is.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('api', '0001_initial'),
        ('agents', '0003_apikey'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[migrations.DeleteModel(name='ApiKey')],
        ),
    ]
