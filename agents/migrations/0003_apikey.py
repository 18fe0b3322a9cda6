# The ApiKey model moved from the `api` app to `agents` (API keys are an agent's credentials, and
# `runners` mints them). The table stays `api_apikey`: only Django's model state moves.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('agents', '0002_initial'),
        ('api', '0001_initial'),
        ('orgs', '0001_initial'),
        ('runners', '0002_schedulerstate_run_cancel_requested_run_not_before_and_more'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ApiKey',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('run', 'Run key'), ('agent', 'Agent key'), ('board', 'Board key')], max_length=6)),
                        ('name', models.CharField(blank=True, default='', max_length=100)),
                        ('prefix', models.CharField(max_length=16)),
                        ('digest', models.CharField(max_length=64, unique=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('expires_at', models.DateTimeField(blank=True, null=True)),
                        ('revoked_at', models.DateTimeField(blank=True, null=True)),
                        ('last_used_at', models.DateTimeField(blank=True, null=True)),
                        ('agent', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to='agents.agent')),
                        ('org', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to='orgs.org')),
                        ('run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='api_keys', to='runners.run')),
                    ],
                    options={
                        'db_table': 'api_apikey',
                        'ordering': ['-created_at'],
                        'constraints': [models.CheckConstraint(condition=models.Q(('kind__in', ['run', 'agent', 'board'])), name='api_key_kind_valid'), models.CheckConstraint(condition=models.Q(models.Q(('agent__isnull', True), ('kind', 'board')), models.Q(models.Q(('kind', 'board'), _negated=True), ('agent__isnull', False)), _connector='OR'), name='api_key_agent_matches_kind')],
                    },
                ),
            ],
        ),
    ]
