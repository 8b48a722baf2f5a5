"""Staff start a forecast run from the dashboard, with the horizon they ask for or the default one."""

from __future__ import annotations

import pytest

from forecasting import services
from forecasting.models import ForecastRun


def _messages(response) -> list[str]:
    """The messages the page a POST redirected to showed."""
    return [str(m) for m in response.context["messages"]]


@pytest.mark.django_db
def test_staff_choose_the_horizon_of_a_run_or_get_the_default(client, personas):
    client.force_login(personas["staff"])
    page = client.get("/forecasts/", {"freq": "W"})
    assert page.status_code == 200
    default_w = services.default_horizon("W")
    assert f'name="horizon" min="1" max="{services.max_horizon("W")}"'.encode() in page.content
    assert f'placeholder="{default_w}"'.encode() in page.content
    assert b"Horizon (weeks)" in page.content

    asked = client.post("/forecasts/run-now/", {"freq": "W", "horizon": "14"}, follow=True)
    assert asked.redirect_chain == [("/forecasts/?freq=W", 302)]
    run = ForecastRun.objects.get()
    assert (run.freq, run.horizon, run.job.parameters["horizon"]) == ("W", 14, 14)
    assert _messages(asked) == [f"Forecast run #{run.pk} queued: 14 weeks ahead."]

    blank = client.post("/forecasts/run-now/", {"freq": "D", "horizon": " "}, follow=True)
    latest = ForecastRun.objects.latest("pk")
    assert latest.pk != run.pk and (latest.freq, latest.horizon) == ("D", services.default_horizon("D"))
    assert _messages(blank) == [f"Forecast run #{latest.pk} queued: {latest.horizon} days ahead."]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"freq": "D", "horizon": "abc"}, "Horizon: “abc” is not a whole number of periods."),
        ({"freq": "D", "horizon": "-3"}, "Horizon: “-3” is not a whole number of periods."),
        ({"freq": "D", "horizon": "2.5"}, "Horizon: “2.5” is not a whole number of periods."),
        ({"freq": "D", "horizon": "0"}, "Horizon: The horizon must be at least one period."),
        ({"freq": "D", "horizon": "183"}, "Horizon: at most 182 days."),
        ({"freq": "W", "horizon": "27"}, "Horizon: at most 26 weeks."),
        ({"freq": "D", "horizon": "9" * 5000}, "Horizon: at most 182 days."),
        ({"freq": "D", "horizon": "²"}, "Horizon: “²” is not a whole number of periods."),
        ({"freq": "M", "horizon": "5"}, "Frequency: “M” is neither D (daily) nor W (weekly)."),
        ({"freq": "M", "horizon": "9" * 5000}, "Frequency: “M” is neither D (daily) nor W (weekly)."),
    ],
)
def test_a_bad_horizon_or_frequency_is_named_and_starts_nothing(client, personas, data, says):
    client.force_login(personas["staff"])
    response = client.post("/forecasts/run-now/", data, follow=True)
    assert response.status_code == 200 and response.redirect_chain[0][1] == 302
    assert _messages(response) == [says]
    assert not ForecastRun.objects.exists()


@pytest.mark.django_db
def test_only_staff_start_runs(client, personas):
    for who in ("buyer", "marketer", "supplier_partner", "outsider"):
        client.force_login(personas[who])
        assert client.post("/forecasts/run-now/", {"freq": "D", "horizon": "7"}).status_code == 403
    assert not ForecastRun.objects.exists()
