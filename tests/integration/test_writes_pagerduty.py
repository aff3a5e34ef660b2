"""Status changes through `PagerDutySource.apply()` when the outbox retries them: an earlier
try that landed (its answer, or the whole cockpit, lost before the outbox heard of it) is not
sent again. Found by `bench/durability.py`: a cockpit killed while its acknowledge was in
flight acknowledged the page a second time after the restart."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from oncall_tui.config import Settings
from oncall_tui.demo import demo_settings
from oncall_tui.simulator import Simulator
from oncall_tui.simulator.pagerduty_world import Incident
from oncall_tui.sources.base import Unavailable
from oncall_tui.sources.pagerduty import PagerDutySource


@pytest.fixture
def source(simulator: Simulator) -> Iterator[PagerDutySource]:
    settings = replace(demo_settings(Settings(), simulator).pagerduty, timeout=5.0)
    made = PagerDutySource(settings, simulator.world.clock)
    yield made
    made.close()


def triggered(simulator: Simulator) -> Incident:
    return simulator.world.pagerduty.trigger_now(title="disk full on claims-db")


def my_acks(simulator: Simulator, incident: Incident) -> int:
    me = simulator.world.pagerduty.me.id
    return [user_id for user_id, _ in incident.ack_history].count(me)


def status_puts(simulator: Simulator) -> int:
    return len(
        [
            x
            for x in simulator.exchanges
            if x.request.provider == "pagerduty"
            and x.request.method == "PUT"
            and x.request.path == "/incidents"
        ]
    )


def test_a_retried_acknowledge_that_landed_is_not_sent_again(
    simulator: Simulator, source: PagerDutySource
) -> None:
    incident = triggered(simulator)
    # The first try lands, but the outbox never hears (its answer, or the cockpit, was lost).
    source.apply("acknowledge", [incident.id], {}, attempt=0)
    before = status_puts(simulator)
    source.apply("acknowledge", [incident.id], {}, attempt=1)
    assert status_puts(simulator) == before
    assert incident.status == "acknowledged"
    assert my_acks(simulator, incident) == 1


def test_a_retried_acknowledge_that_did_not_land_is_sent(
    simulator: Simulator, source: PagerDutySource
) -> None:
    incident = triggered(simulator)
    simulator.set_fault("pagerduty", "500", count=1)
    with pytest.raises(Unavailable):
        source.apply("acknowledge", [incident.id], {}, attempt=0)
    assert incident.status == "triggered"
    source.apply("acknowledge", [incident.id], {}, attempt=1)
    assert incident.status == "acknowledged"
    assert my_acks(simulator, incident) == 1


def test_a_retry_leaves_out_the_pages_already_acknowledged_and_sends_the_rest(
    simulator: Simulator, source: PagerDutySource
) -> None:
    landed, missed = triggered(simulator), triggered(simulator)
    source.apply("acknowledge", [landed.id], {}, attempt=0)
    source.apply("acknowledge", [landed.id, missed.id], {}, attempt=1)
    assert landed.status == missed.status == "acknowledged"
    assert my_acks(simulator, landed) == my_acks(simulator, missed) == 1


def test_a_retried_resolve_of_a_resolved_page_is_done(
    simulator: Simulator, source: PagerDutySource
) -> None:
    incident = triggered(simulator)
    source.apply("resolve", [incident.id], {}, attempt=0)
    before = status_puts(simulator)
    source.apply("resolve", [incident.id], {}, attempt=1)
    assert incident.status == "resolved"
    assert status_puts(simulator) == before


def incident_puts(simulator: Simulator, incident: Incident) -> int:
    return len(
        [
            x
            for x in simulator.exchanges
            if x.request.provider == "pagerduty"
            and x.request.method == "PUT"
            and x.request.path == f"/incidents/{incident.id}"
        ]
    )


def test_a_retried_escalation_that_landed_does_not_page_the_level_again(
    simulator: Simulator, source: PagerDutySource
) -> None:
    incident = triggered(simulator)
    level = source.next_escalation_level(incident.id)
    source.apply("escalate", [incident.id], {"level": level}, attempt=0)
    assert incident_puts(simulator, incident) == 1
    source.apply("escalate", [incident.id], {"level": level}, attempt=1)
    assert incident_puts(simulator, incident) == 1


def test_a_retried_escalation_that_did_not_land_is_sent(
    simulator: Simulator, source: PagerDutySource
) -> None:
    incident = triggered(simulator)
    level = source.next_escalation_level(incident.id)
    source.apply("escalate", [incident.id], {"level": level}, attempt=1)
    assert incident_puts(simulator, incident) == 1


def test_a_retried_reassignment_that_landed_is_not_sent_again(
    simulator: Simulator, source: PagerDutySource
) -> None:
    incident = triggered(simulator)
    other = next(uid for uid, _ in source.users() if uid != simulator.world.pagerduty.me.id)
    source.apply("reassign", [incident.id], {"user_ids": [other]}, attempt=0)
    source.apply("reassign", [incident.id], {"user_ids": [other]}, attempt=1)
    assert incident_puts(simulator, incident) == 1
    # A different target on a retry is still sent.
    source.apply(
        "reassign", [incident.id], {"user_ids": [simulator.world.pagerduty.me.id]}, attempt=1
    )
    assert incident_puts(simulator, incident) == 2
