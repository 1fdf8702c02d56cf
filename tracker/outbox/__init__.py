"""The outbox (docs/architecture.md#messages): sending what services queued (claiming, sending, reconciling,
recording each outcome), reading what the provider reports back (delivery statuses, texts back, keypresses),
and the webhook views that receive those reports. The only part besides the worker that reaches `tracker.sms`."""
