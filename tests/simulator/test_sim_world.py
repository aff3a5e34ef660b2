"""The simulated world without HTTP: seeded determinism, movement with the clock, scenarios."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oncall_tui.domain.clock import FakeClock
from oncall_tui.simulator import SCENARIOS, World
from oncall_tui.simulator.pagerduty_world import PagerDutyWorld
from oncall_tui.simulator.scenarios import resolve_scenario

T0 = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)


def world(seed: int = 7, scenario: str = "default") -> tuple[World, FakeClock]:
    clock = FakeClock(T0)
    return World(seed=seed, clock=clock, scenario=scenario), clock


def open_incidents(pd: PagerDutyWorld) -> list[str]:
    return [i.id for i in pd.incidents.values() if i.is_open]


def test_same_seed_same_world() -> None:
    first, _ = world(seed=7)
    second, _ = world(seed=7)
    assert first.snapshot() == second.snapshot()


def test_different_seed_different_world() -> None:
    first, _ = world(seed=7)
    second, _ = world(seed=8)
    titles = [i["title"] for i in first.snapshot()["pagerduty"]["incidents"]]
    other = [i["title"] for i in second.snapshot()["pagerduty"]["incidents"]]
    assert titles != other


def test_world_is_the_same_however_finely_it_is_advanced() -> None:
    coarse, coarse_clock = world()
    fine, fine_clock = world()
    coarse_clock.advance(5 * 3600)
    coarse.tick()
    for _ in range(5 * 60):
        fine_clock.advance(60)
        fine.tick()
    assert coarse.snapshot() == fine.snapshot()


def test_world_moves_with_the_clock() -> None:
    w, clock = world()
    pd = w.pagerduty
    before = set(pd.incidents)
    open_before = set(open_incidents(pd))
    clock.advance(2 * 3600)
    w.tick()
    after = set(pd.incidents)
    assert after - before, "new pages trigger as clock time passes"
    assert open_before - set(open_incidents(pd)), "some pages resolve"
    kinds = {e.type for i in pd.incidents.values() for e in i.log_entries}
    assert {"trigger_log_entry", "notify_log_entry", "acknowledge_log_entry"} <= kinds
    assert {"escalate_log_entry", "resolve_log_entry"} <= kinds


def test_nothing_moves_without_the_clock() -> None:
    w, _ = world()
    before = w.snapshot()
    w.tick()
    w.tick()
    assert w.snapshot() == before


def test_default_scenario_shape() -> None:
    w, _ = world()
    pd = w.pagerduty
    incidents = [i for i in pd.incidents.values() if i.is_open]
    assert len(incidents) == 12
    assert {i.status for i in incidents} == {"triggered", "acknowledged"}
    assert {i.urgency for i in incidents} == {"high", "low"}
    ages = [T0 - i.created_at for i in incidents]
    assert min(ages) < timedelta(hours=1) < max(ages) < timedelta(hours=4)
    resolved = [i for i in pd.incidents.values() if not i.is_open]
    assert len(resolved) == SCENARIOS["default"].pagerduty.resolved_history
    assert all(i.ack_history and i.resolved_at for i in resolved)
    assert pd.team.name == "Benefits Platform"
    assert {s.name for s in pd.services.values()} == {
        "claims-api",
        "svc-bgs-api",
        "svc-bip-api",
        "svc-bie-kafka",
        "domain-cc",
        "ee-ep-merge-app",
        "ee-max-cfi-app",
        "rabbitmq",
        "postgres",
    }


def test_me_is_on_call_at_level_one_until_later_today() -> None:
    w, _ = world()
    oncalls = w.pagerduty.oncalls(T0, T0)
    assert {(o.policy.name, o.level) for o in oncalls} == {
        ("Benefits Platform", 1),
        ("Benefits Platform", 2),
        ("Benefits Data & Messaging", 1),
        ("Benefits Data & Messaging", 2),
    }
    mine = [o for o in oncalls if o.user.id == w.pagerduty.me.id]
    assert [(o.policy.name, o.level) for o in mine] == [("Benefits Platform", 1)]
    assert mine[0].start <= T0 < mine[0].end
    assert timedelta(hours=1) < mine[0].end - T0 < timedelta(hours=12)


def test_shift_handoff_changes_who_is_on_call() -> None:
    w, clock = world()
    pd = w.pagerduty
    policy = next(p for p in pd.policies.values() if p.name == "Benefits Platform")
    assert pd.on_call(policy, 1, T0) == pd.me
    clock.advance(6 * 3600)
    w.tick()
    assert pd.on_call(policy, 1, clock.now()) != pd.me


def test_triggered_pages_escalate_after_the_policy_delay() -> None:
    w, clock = world(scenario="quiet")
    pd = w.pagerduty
    incident = pd.trigger_now(service="claims-api", urgency="high")
    assert incident.escalation_level == 1
    assert incident.assignee_ids() == [pd.me.id]
    clock.advance(29 * 60)
    w.tick()
    assert incident.escalation_level == 1
    clock.advance(2 * 60)
    w.tick()
    assert incident.escalation_level == 2
    assert incident.assignee_ids() != [pd.me.id]
    assert incident.log_entries[-2].type == "escalate_log_entry"


def test_acknowledged_pages_do_not_escalate() -> None:
    w, clock = world(scenario="quiet")
    pd = w.pagerduty
    incident = pd.trigger_now(service="claims-api")
    pd.acknowledge(incident, pd.me, clock.now())
    clock.advance(3600)
    w.tick()
    assert incident.escalation_level == 1
    assert incident.status in ("acknowledged", "resolved")


def test_snooze_returns_the_page_when_it_ends() -> None:
    w, clock = world(scenario="quiet")
    pd = w.pagerduty
    incident = pd.trigger_now(service="postgres")
    pd.acknowledge(incident, pd.me, clock.now())
    pd.snooze(incident, 600, pd.me, clock.now())
    clock.advance(599)
    w.tick()
    assert incident.status == "acknowledged"
    clock.advance(2)
    w.tick()
    assert incident.status == "triggered"
    assert incident.acknowledgements == []


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("quiet", 1, 2), ("default", 10, 14), ("storm", 30, 60)],
)
def test_scenario_sizes(name: str, low: int, high: int) -> None:
    w, _ = world(scenario=name)
    assert low <= len(open_incidents(w.pagerduty)) <= high


def test_storm_triggers_more_than_quiet() -> None:
    counts = {}
    for name in ("quiet", "storm"):
        w, clock = world(scenario=name)
        before = len(w.pagerduty.incidents)
        clock.advance(3600)
        w.tick()
        counts[name] = len(w.pagerduty.incidents) - before
    assert counts["storm"] > 5 * max(1, counts["quiet"])


def test_scale_builds_5000_open_pages() -> None:
    # How fast it builds is a bench figure (bench/scale.py), not a test assertion.
    w, _ = world(scenario="scale")
    assert len(open_incidents(w.pagerduty)) == 5000


def test_scale_takes_a_size() -> None:
    clock = FakeClock(T0)
    assert len(World(seed=1, clock=clock, scenario="scale", size=300).pagerduty.incidents) == 300
    assert len(World(seed=1, clock=clock, scenario="scale:40").pagerduty.incidents) == 40


def test_bad_scenarios_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown scenario"):
        resolve_scenario("busy")
    with pytest.raises(ValueError, match="does not take a size"):
        resolve_scenario("default", 10)
    with pytest.raises(ValueError, match="integer"):
        resolve_scenario("scale:many")


def test_resolved_pages_are_forgotten_after_days() -> None:
    w, clock = world(scenario="quiet")
    first_ids = set(w.pagerduty.incidents)
    clock.advance(5 * 86400)
    w.tick()
    assert not first_ids & set(w.pagerduty.incidents)


def test_snapshot_reports_acknowledgers_and_notes() -> None:
    w, clock = world(scenario="quiet")
    pd = w.pagerduty
    incident = pd.trigger_now(title="disk full", service="postgres", urgency="low")
    pd.acknowledge(incident, pd.me, clock.now())
    pd.add_note(incident, pd.me, "cleaning up WAL", clock.now())
    state = w.snapshot()
    entry = next(i for i in state["pagerduty"]["incidents"] if i["id"] == incident.id)
    assert entry["title"] == "disk full"
    assert entry["service"] == "postgres"
    assert entry["urgency"] == "low"
    assert entry["acknowledgers"] == [pd.me.email]
    assert entry["notes"][0]["content"] == "cleaning up WAL"
    assert state["now"] == "2026-11-27T14:00:00Z"
    assert state["scenario"] == "quiet"
