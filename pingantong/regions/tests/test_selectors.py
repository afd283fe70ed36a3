"""Reads of the tree, and the regions a user may pick from."""

import pytest

from pingantong.accounts.choices import Role
from pingantong.regions import selectors
from pingantong.regions.loading import load_regions, shipped_rows

pytestmark = pytest.mark.django_db


def test_subtree_children_towns_and_villages_of_sanyuan():
    assert selectors.subtree("350404000000").count() == 1 + 13 + 133
    assert selectors.subtree("350404102000", include_self=False).count() == 16
    children = list(selectors.children_of("350404000000"))
    assert [c.code for c in children][:3] == ["350404001000", "350404002000", "350404003000"]
    assert {c.name: c.child_count for c in children}["中村乡"] == 19
    towns = selectors.towns_of("350404000000")
    assert towns.count() == 13
    assert {t.name: t.village_count for t in towns}["莘口镇"] == 16
    assert selectors.villages_of("350404000000").count() == 133
    assert [v.name for v in selectors.villages_of("350404004000")][:2] == [
        "红印山社区居委会",
        "复康社区居委会",
    ]


def test_selectors_reject_bad_codes():
    with pytest.raises(ValueError):
        selectors.subtree("3504")
    with pytest.raises(ValueError):
        selectors.children_of("x")


def test_ancestors_and_search():
    assert [r.name for r in selectors.ancestors_of("350404102214")] == [
        "福建省",
        "三明市",
        "三元区",
        "莘口镇",
    ]
    assert [r.code for r in selectors.search("中央溪")] == ["350404102214"]
    assert selectors.search("350404102")[0].code == "350404102000"
    assert selectors.search("  ") == []


def test_region_choices_are_the_users_role_subtrees(user_factory):
    load_regions(shipped_rows(), under="350405")
    worker = user_factory(Role.TOWNSHIP, region="350404102000")  # 莘口镇
    choices = selectors.region_choices_for(worker)
    assert len(choices) == 1 + 16
    assert choices[0] == ("350404102000", "三元区 / 莘口镇")
    assert ("350404102214", "三元区 / 莘口镇 / 中央溪村") in choices
    assert all(code.startswith("350404102") for code, _label in choices)
    assert [c for c, _ in selectors.region_choices_for(worker, level=5)][-1] == "350404102214"


def test_several_role_regions_are_combined(user_factory):
    user = user_factory(Role.VILLAGE, region="350404001201")
    from pingantong.accounts.models import RoleAssignment

    RoleAssignment.objects.create(user=user, role=Role.FIELD_WORKER, region_id="350404200000")
    codes = {code for code, _ in selectors.region_choices_for(user)}
    assert "350404001201" in codes and "350404200218" in codes
    assert "350404001001" not in codes
    assert len(codes) == 1 + 1 + 19


def test_superuser_sees_all_and_a_user_without_roles_none(admin_user, user_factory):
    assert len(selectors.region_choices_for(admin_user)) == 1 + 1 + 1 + 13 + 133
    assert selectors.region_choices_for(user_factory()) == []
