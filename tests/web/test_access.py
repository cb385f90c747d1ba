"""The declared access-policy table covers every URL pattern, and says what the code does
(issue 4, T14)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

from refugium.web.access import DESK_IN_URL, DESK_MEMBER, POLICIES, policy_of


def _patterns(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}{entry.namespace}:"
            found.extend(_patterns(entry, inner))
        else:
            found.append((f"{namespace}{entry.name}" if entry.name else "", entry))
    return found


def test_every_url_pattern_is_named():
    unnamed = [str(p.pattern) for name, p in _patterns(get_resolver()) if not name]
    assert unnamed == []


def test_every_url_pattern_has_a_declared_policy():
    names = {name for name, _ in _patterns(get_resolver())}
    missing = sorted(names - POLICIES.keys())
    assert missing == [], f"add these URL names to refugium.web.access.POLICIES: {missing}"


def test_no_policy_names_a_pattern_that_does_not_exist():
    names = {name for name, _ in _patterns(get_resolver())}
    assert sorted(POLICIES.keys() - names) == []


def test_each_view_enforces_its_declared_policy():
    enforced = {name: policy_of(pattern.callback) for name, pattern in _patterns(get_resolver())}
    assert enforced == POLICIES


def test_policies_are_from_the_known_kinds():
    kinds = {"public-reporter", "anonymous", "signed-in"}
    for name, policy in POLICIES.items():
        assert policy in kinds or (
            policy.startswith(DESK_MEMBER) and policy[len(DESK_MEMBER):]
        ), name


def test_a_desk_named_by_the_url_is_checked_against_the_url():
    """``desk-member:<desk>`` pages take the desk from the URL: every such pattern has a
    ``desk`` argument, so the check cannot silently fall back to no desk at all."""
    for name, pattern in _patterns(get_resolver()):
        if POLICIES.get(name) == DESK_IN_URL:
            assert "desk" in pattern.pattern.regex.groupindex, name


def test_the_walk_sees_every_app():
    names = {name for name, _ in _patterns(get_resolver())}
    assert {n.split(":")[0] for n in names} >= {"accounts", "intake", "desk"}
