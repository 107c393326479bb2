"""The progress-event hub: listeners hear emits only while subscribed; a failing one is dropped."""

from __future__ import annotations

from django_zero_downtime import events


def test_listener_hears_only_while_listening() -> None:
    heard: list[events.Event] = []
    with events.listening(heard.append):
        events.emit("batch", rows=10, done=10, total=20)
    events.emit("batch", rows=10, done=20, total=20)
    assert [(e.kind, e.data["done"]) for e in heard] == [("batch", 10)]


def test_a_listener_that_raises_is_dropped_and_the_emitter_goes_on() -> None:
    heard: list[str] = []

    def broken(event: events.Event) -> None:
        raise RuntimeError("listener bug")

    with events.listening(broken), events.listening(lambda e: heard.append(e.kind)):
        events.emit("pause", key="k", reason="replica lag")
        events.emit("resume", key="k", seconds=1.0)
    assert heard == ["pause", "resume"]
