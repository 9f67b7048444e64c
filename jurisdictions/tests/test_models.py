"""The tree queries on Jurisdiction: ancestors, descendants, is_within."""

from jurisdictions.models import Jurisdiction


def test_ancestors_from_the_root_down(sample_tree):
    village = sample_tree["990101001004"]
    assert village.ancestor_codes == ["990000", "990100", "990101", "990101001"]
    assert [a.code for a in village.ancestors()] == ["990000", "990100", "990101", "990101001"]
    assert list(sample_tree["990000"].ancestors()) == []


def test_full_name(sample_tree):
    assert sample_tree["990101001004"].full_name == "演示省演示市示范县城关镇北岭村"


def test_descendants(sample_tree):
    township = sample_tree["990101001"]
    assert sorted(d.code for d in township.descendants()) == [f"990101001{n:03d}" for n in range(1, 6)]
    assert township.descendants(include_self=True).count() == 6
    assert sample_tree["990000"].descendants().count() == 12
    assert not sample_tree["990101002003"].descendants().exists()


def test_descendants_do_not_leak_into_a_code_with_the_same_digits(sample_tree):
    """Paths end in '/', so 990101001 does not take in a sibling whose code starts alike."""
    from jurisdictions.tests.factories import JurisdictionFactory

    county = sample_tree["990101"]
    JurisdictionFactory(code="9901010010", name="怪代码", level="township", parent=county)
    township = Jurisdiction.objects.get(code="990101001")
    assert "9901010010" not in {d.code for d in township.descendants()}


def test_is_within(sample_tree):
    village, township, county = sample_tree["990101001004"], sample_tree["990101001"], sample_tree["990101"]
    other_township = sample_tree["990101002"]
    assert village.is_within(township)
    assert village.is_within(county)
    assert township.is_within(township)
    assert not township.is_within(village)
    assert not village.is_within(other_township)
    assert not other_township.is_within(township)


def test_level_rank_orders_the_levels(sample_tree):
    ranks = [sample_tree[code].level_rank for code in ("990000", "990100", "990101", "990101001", "990101001001")]
    assert ranks == sorted(ranks) == [0, 1, 2, 3, 4]
