from __future__ import annotations

import pytest

from orgs.actors import Actor
from orgs.errors import Conflict, InvalidInput
from orgs.models import Membership
from orgs.selectors import org_role, orgs_visible
from orgs.services import membership_remove, membership_set
from tests.factories import make_org, make_user

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system()


def test_it_lists_only_the_orgs_a_user_belongs_to() -> None:
    a, b = make_org(), make_org()
    user = make_user()
    membership_set(actor=SYSTEM, org=a, user=user, role="member")
    assert list(orgs_visible(user)) == [a]
    assert org_role(user, a) == "member" and org_role(user, b) is None
    root = make_user(is_superuser=True)
    assert set(orgs_visible(root)) == {a, b} and org_role(root, b) == "owner"


def test_it_changes_a_role_and_keeps_one_row() -> None:
    org, user = make_org(), make_user()
    membership_set(actor=SYSTEM, org=org, user=user, role="viewer")
    membership_set(actor=SYSTEM, org=org, user=user, role="member")
    assert Membership.objects.get(org=org, user=user).role == "member"


def test_it_refuses_an_unknown_role() -> None:
    with pytest.raises(InvalidInput):
        membership_set(actor=SYSTEM, org=make_org(), user=make_user(), role="admin")


def test_it_keeps_the_last_owner() -> None:
    org, owner = make_org(), make_user()
    membership_set(actor=SYSTEM, org=org, user=owner, role="owner")
    with pytest.raises(Conflict):
        membership_set(actor=SYSTEM, org=org, user=owner, role="viewer")
    with pytest.raises(Conflict):
        membership_remove(actor=SYSTEM, org=org, user=owner)
    other = make_user()
    membership_set(actor=SYSTEM, org=org, user=other, role="owner")
    membership_remove(actor=SYSTEM, org=org, user=owner)
    assert list(Membership.objects.filter(org=org).values_list("user", flat=True)) == [other.pk]
