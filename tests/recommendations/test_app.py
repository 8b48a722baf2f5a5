"""Recommendation runs in the app: stored lists, activation, serving rules, API scoping and the pages."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from recommendations import services
from recommendations.models import BehaviourEvent, CustomerRecommendation, RecommendationRun, SimilarItem
from recommendations.selectors import (
    active_run,
    bought_together,
    customer_recommendations,
    serving_run_forget,
    similar_products,
)
from retailai.commerce.models import Product
from retailai.core.choices import JobStatus
from retailai.core.errors import Conflict
from tests import factories

LONDON = ZoneInfo("Europe/London")
END = datetime(2024, 3, 31, 12, 0, tzinfo=LONDON)
SHOPPERS = [f"S{n:02d}" for n in range(12)]


def _order(channel, customer, at, *products):
    order = factories.OrderFactory(channel=channel, customer=customer, placed_at=at)
    for n, product in enumerate(products, start=1):
        factories.OrderLineFactory(order=order, line_number=n, product=product, placed_at=at)


@pytest.fixture
def book(web_channel):
    """Twelve shoppers over 84 days: MUG and SAUCER share baskets, COFFEE is a weekly re-buy of one customer,
    CANDLE is popular but out of stock, SCARF has no stock rows at all (and so counts as available)."""
    names = {"MUG": "White mug", "SAUCER": "White saucer", "COFFEE": "Coffee beans", "SCARF": "Wool scarf",
             "HAT": "Wool hat", "CANDLE": "Candle holder", "VASE": "Glass vase"}  # fmt: skip
    p = {sku: factories.ProductFactory(sku=sku, name=name) for sku, name in names.items()}
    postage = factories.ProductFactory(sku="POST", name="Postage", is_merchandise=False)
    location = factories.LocationFactory(code="dc")
    for sku in ("MUG", "SAUCER", "COFFEE", "HAT", "VASE"):
        factories.StockLevelFactory(product=p[sku], location=location, on_hand=20)
    factories.StockLevelFactory(product=p["CANDLE"], location=location, on_hand=0)
    customers = {ext: factories.CustomerFactory(external_id=ext) for ext in SHOPPERS + ["WEEKLY"]}
    for n, ext in enumerate(SHOPPERS):
        c = customers[ext]
        _order(web_channel, c, END - timedelta(days=70 - n), p["SCARF"], p["CANDLE"], postage)
        if n < 8:
            _order(web_channel, c, END - timedelta(days=40 - n), p["MUG"], p["SAUCER"])
        _order(web_channel, c, END - timedelta(days=12 - n % 6), p["HAT"] if n % 2 else p["VASE"], p["CANDLE"])
    for week in range(12):
        _order(web_channel, customers["WEEKLY"], END - timedelta(days=7 * week), p["COFFEE"])
    _order(web_channel, customers["WEEKLY"], END - timedelta(days=30), p["MUG"])
    return p


@pytest.fixture
def trained(book):
    run = services.recommendation_run_create()
    return services.recommendation_run_execute(run_id=run.pk)


def _skus(served):
    return [i.sku for i in served.items]


@pytest.mark.django_db
def test_a_run_stores_top_n_per_customer_and_becomes_active(trained, book):
    run = RecommendationRun.objects.select_related("job").get(pk=trained.pk)
    assert run.is_active and run.job.status == JobStatus.SUCCEEDED
    assert run.customers_total == 13 and run.top_n == 20
    assert run.trained_until is not None and run.ranker
    for ext in SHOPPERS + ["WEEKLY"]:
        ranks = list(
            CustomerRecommendation.objects.filter(run=run, customer__external_id=ext).values_list("rank", flat=True)
        )
        assert ranks == list(range(1, len(ranks) + 1)) and len(ranks) == 7  # every merchandise product, once
    weekly = customer_recommendations(external_id="WEEKLY", k=3)
    assert weekly.items[0].sku == "COFFEE"
    assert re.fullmatch(r"bought again every ~[78] days", weekly.items[0].reason)
    assert not weekly.cold_start
    assert "recall@10" in run.metrics and "ndcg@10" in run.metrics and run.job.metrics == run.metrics
    assert not CustomerRecommendation.objects.filter(product__sku="POST").exists()


@pytest.mark.django_db
def test_the_co_purchase_pair_is_similar_and_bought_together(trained, book):
    assert _skus(similar_products(product=book["MUG"], k=3))[0] == "SAUCER"
    together = bought_together(products=[book["MUG"]], k=3)
    assert together.items[0].sku == "SAUCER"
    assert together.items[0].reason == "in the same basket 8 times"
    assert SimilarItem.objects.filter(run=trained, product=book["SAUCER"], similar=book["MUG"], rank=1).count() == 2


@pytest.mark.django_db
def test_a_new_customer_is_told_why_each_cold_start_item_is_there(trained, book):
    # Given a run whose cold-start list says HAT is a newcomers' favourite (an entry stored with its reason)
    # and VASE comes from a run stored before reasons were kept ([product id, score])
    RecommendationRun.objects.filter(pk=trained.pk).update(
        popular=[[book["HAT"].pk, 0.9, "popular with new customers this month"], [book["VASE"].pk, 0.5]]
    )
    serving_run_forget()
    # When a customer nobody has seen asks
    served = customer_recommendations(external_id="NEVER-SEEN", k=2)
    # Then each item carries its own reason
    assert [(i.sku, i.reason) for i in served.items] == [
        ("HAT", "popular with new customers this month"),
        ("VASE", "popular right now"),
    ]


@pytest.mark.django_db
def test_out_of_stock_inactive_and_non_merchandise_products_are_never_served(trained, book):
    # CANDLE is in nearly every basket, so the stored lists hold it; the serving rules drop it.
    assert CustomerRecommendation.objects.filter(run=trained, product=book["CANDLE"]).exists()
    assert SimilarItem.objects.filter(run=trained, similar=book["CANDLE"]).exists()
    Product.objects.filter(pk=book["VASE"].pk).update(active=False)
    served = [customer_recommendations(external_id=ext, k=20) for ext in SHOPPERS + ["WEEKLY", "NEWBIE"]]
    served += [similar_products(product=p, k=20) for p in book.values()]
    served += [bought_together(products=[book["SCARF"]], k=20)]
    for s in served:
        assert not {"CANDLE", "VASE", "POST"} & set(_skus(s))
    assert "SCARF" in _skus(customer_recommendations(external_id="WEEKLY", k=20))  # no stock rows: available


@pytest.mark.django_db
def test_a_new_customer_gets_the_popular_items(trained, book):
    factories.CustomerFactory(external_id="NEWBIE")
    for ext in ("NEWBIE", "NEVER-SEEN"):
        served = customer_recommendations(external_id=ext, k=3)
        assert served.cold_start and served.run_id == trained.pk
        assert [i.reason for i in served.items] == ["popular right now"] * 3
        # HAT and VASE were bought by six shoppers each in the last fortnight; CANDLE (more) is out of stock.
        assert set(_skus(served)[:2]) == {"HAT", "VASE"}


@pytest.mark.django_db
def test_a_failed_run_keeps_the_previous_run_serving(trained, book, monkeypatch):
    with pytest.raises(Conflict, match="is succeeded"):
        services.recommendation_run_execute(run_id=trained.pk)
    trained.refresh_from_db()
    assert trained.is_active and trained.job.status == JobStatus.SUCCEEDED

    broken = services.recommendation_run_create()

    def boom(*args, **kwargs):
        raise RuntimeError("engine exploded")

    monkeypatch.setattr(services, "recommend", boom)
    with pytest.raises(RuntimeError):
        services.recommendation_run_execute(run_id=broken.pk)
    broken.refresh_from_db()
    assert broken.job.status == JobStatus.FAILED and "engine exploded" in broken.job.error
    assert not broken.is_active and not CustomerRecommendation.objects.filter(run=broken).exists()
    assert active_run().pk == trained.pk
    assert customer_recommendations(external_id="WEEKLY", k=1).items[0].sku == "COFFEE"


@pytest.mark.django_db
def test_the_task_runs_a_queued_run_to_active(book):
    from recommendations.tasks import recommendation_run_task

    run = services.recommendation_run_create()
    recommendation_run_task.apply(args=[run.pk], throw=True)
    assert active_run().pk == run.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("persona", "code"),
    [("staff", 200), ("marketer", 200), ("channel_partner", 200), ("supplier_partner", 403), ("outsider", 403),
     (None, 401)],
)  # fmt: skip
def test_api_scoping_per_persona(trained, personas, api_as, persona, code):
    client = api_as(personas[persona] if persona else None)
    assert client.get("/api/recommendations/customers/WEEKLY/?k=2").status_code == code
    assert client.get("/api/recommendations/products/MUG/similar/").status_code == code
    assert client.post("/api/recommendations/bought-together/", {"skus": ["MUG"]}, format="json").status_code == code


@pytest.mark.django_db
@pytest.mark.parametrize(("persona", "first", "then"), [("marketer", 4, 3), ("channel_partner", 5, 4)])
def test_serving_a_customer_is_a_lookup_with_few_queries(
    trained, personas, api_as, django_assert_num_queries, persona, first, then
):
    # Token and roles (1 + 1, and the partner's channel link with its channel 1), then one query for the scoped,
    # in-stock stored list; the active run is read once and then cached until another run is activated.
    client = api_as(personas[persona])
    with django_assert_num_queries(first):
        client.get("/api/recommendations/customers/WEEKLY/?k=2")
    with django_assert_num_queries(then):
        response = client.get("/api/recommendations/customers/WEEKLY/?k=2")
    assert response.status_code == 200
    body = response.json()
    assert body["run"] == trained.pk and body["cold_start"] is False
    assert body["results"][0]["sku"] == "COFFEE"
    assert set(body["results"][0]) == {"sku", "name", "score", "reason"}


@pytest.mark.django_db
def test_similar_and_bought_together_read_few_queries(trained, personas, api_as, django_assert_num_queries):
    client = api_as(personas["channel_partner"])
    client.get("/api/recommendations/products/MUG/similar/?k=1")  # the active run is cached from here on
    # Token, roles, channel link with its channel (3), then the visible product and its stored neighbours (1).
    with django_assert_num_queries(4):
        assert client.get("/api/recommendations/products/MUG/similar/?k=1").status_code == 200
    # The same, with the basket's visible products, their neighbours and the popular fill in one query.
    with django_assert_num_queries(4):
        response = client.post("/api/recommendations/bought-together/", {"skus": ["MUG"], "k": 1}, format="json")
    assert response.status_code == 200 and response.json()["results"][0]["sku"] == "SAUCER"


@pytest.mark.django_db
def test_bought_together_and_similar_over_the_api(trained, personas, api_as):
    client = api_as(personas["channel_partner"])
    similar = client.get("/api/recommendations/products/MUG/similar/?k=1").json()
    assert [r["sku"] for r in similar["results"]] == ["SAUCER"]
    basket = client.post("/api/recommendations/bought-together/", {"skus": ["MUG"], "k": 2}, format="json").json()
    assert basket["results"][0] == {"sku": "SAUCER", "name": "White saucer", "score": 8 / 9,
                                    "reason": "in the same basket 8 times"}  # fmt: skip
    assert client.get("/api/recommendations/products/NOPE/similar/").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [({"skus": []}, "skus"), ({"skus": ["MUG", "NOPE", "ALSO-NOPE"]}, "skus"), ({}, "skus"), ({"skus": "MUG"}, "skus")],
)
def test_bought_together_refuses_bad_baskets(trained, personas, api_as, body, field):
    response = api_as(personas["staff"]).post("/api/recommendations/bought-together/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    if body.get("skus") == ["MUG", "NOPE", "ALSO-NOPE"]:
        assert response.json()["skus"] == ["Unknown SKU: ALSO-NOPE, NOPE."]


@pytest.mark.django_db
def test_a_channel_partner_posts_events_for_its_own_channel(book, personas, api_as, web_channel):
    client = api_as(personas["channel_partner"])
    response = client.post(
        "/api/recommendations/events/", {"customer": "S01", "sku": "VASE", "kind": "cart"}, format="json"
    )
    assert response.status_code == 201
    event = BehaviourEvent.objects.get()
    assert (event.channel, event.customer.external_id, event.product.sku, event.kind) == (web_channel, "S01", "VASE",
                                                                                           "cart")  # fmt: skip
    other = factories.ChannelFactory(code="store-1")
    refused = client.post(
        "/api/recommendations/events/",
        {"customer": "S01", "sku": "VASE", "kind": "view", "channel": other.code},
        format="json",
    )
    assert refused.status_code == 403
    assert (
        api_as(personas["supplier_partner"])
        .post("/api/recommendations/events/", {"customer": "S01", "sku": "VASE", "kind": "view"}, format="json")
        .status_code
        == 403
    )
    assert BehaviourEvent.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"customer": "S01", "sku": "VASE", "kind": "purchase"}, "kind"),
        ({"customer": "S01", "sku": "NOPE", "kind": "view"}, "sku"),
        ({"customer": "S01", "sku": "POST", "kind": "view"}, "sku"),
        ({"customer": "", "sku": "VASE", "kind": "view"}, "customer"),
        ({"customer": "S01", "sku": "VASE", "kind": "view", "at": "2999-01-01T00:00:00Z"}, "at"),
        ({"customer": "S01", "sku": "VASE", "kind": "view", "at": "yesterday"}, "at"),
    ],
)
def test_bad_events_are_refused_and_nothing_is_written(book, personas, api_as, body, field):
    response = api_as(personas["channel_partner"]).post("/api/recommendations/events/", body, format="json")
    assert response.status_code == 400 and field in response.json()
    assert BehaviourEvent.objects.count() == 0


@pytest.mark.django_db
def test_events_feed_the_next_run(trained, book, web_channel):
    for n in range(3):
        services.behaviour_event_record(
            channel=web_channel, customer_external_id="S03", sku="COFFEE", kind="cart", at=END - timedelta(hours=n)
        )
    second = services.recommendation_run_execute(run_id=services.recommendation_run_create().pk)
    assert active_run().pk == second.pk
    assert CustomerRecommendation.objects.filter(run=second, customer__external_id="S03", product__sku="COFFEE")


@pytest.mark.django_db
def test_pages_render_for_marketers_and_check_roles(client, trained, personas):
    client.force_login(personas["marketer"])
    page = client.get("/recommendations/customer/WEEKLY/")
    assert page.status_code == 200
    assert b"Coffee beans" in page.content and b"bought again every ~" in page.content
    assert b"Purchase history" in page.content
    product = client.get("/recommendations/product/MUG/")
    assert product.status_code == 200 and b"in the same basket 8 times" in product.content
    dashboard = client.get("/recommendations/")
    assert dashboard.status_code == 200 and b"recall@10" in dashboard.content
    assert b"Retrain now" not in dashboard.content  # marketers look; staff start runs
    assert client.get("/recommendations/customer/NOBODY/").status_code == 404
    client.force_login(personas["buyer"])
    assert client.get("/recommendations/customer/WEEKLY/").status_code == 403


@pytest.mark.django_db
def test_a_run_on_an_empty_order_book_activates_with_no_lists():
    run = services.recommendation_run_execute(run_id=services.recommendation_run_create().pk)
    assert run.is_active and run.customers_total == 0 and run.popular == []
    assert customer_recommendations(external_id="ANYONE", k=5).items == []


@pytest.mark.django_db
def test_a_channel_partner_never_reaches_a_product_it_may_not_see(trained, personas, api_as):
    from retailai.commerce.models import Product

    # Given a product that is no longer active (a channel partner sees active merchandise only)
    Product.objects.filter(sku="MUG").update(active=False)
    partner, staff = api_as(personas["channel_partner"]), api_as(personas["staff"])
    # Then the partner gets 404 for its neighbours and 400 naming it in a basket, as for a SKU that does not exist
    assert partner.get("/api/recommendations/products/MUG/similar/?k=1").status_code == 404
    assert partner.get("/api/recommendations/products/NOPE/similar/?k=1").status_code == 404
    response = partner.post("/api/recommendations/bought-together/", {"skus": ["MUG", "SAUCER"]}, format="json")
    assert response.status_code == 400 and "MUG" in str(response.json()) and "SAUCER" not in str(response.json())
    # While staff still reach the product itself (and inactive products are never served as neighbours)
    assert staff.get("/api/recommendations/products/MUG/similar/?k=1").status_code == 200
    body = staff.post("/api/recommendations/bought-together/", {"skus": ["MUG"], "k": 1}, format="json").json()
    assert [r["sku"] for r in body["results"]] == ["SAUCER"]


@pytest.mark.django_db
def test_a_product_with_no_stored_neighbours_is_an_empty_list_not_a_404(trained, personas, api_as):
    # Given a product staff may see that the run stored no neighbours for (postage is not merchandise)
    client = api_as(personas["staff"])
    response = client.get("/api/recommendations/products/POST/similar/?k=3")
    # Then the product is found and the list is empty
    assert response.status_code == 200 and response.json()["results"] == []


@pytest.mark.django_db
def test_a_partner_of_another_channel_gets_no_customer_list_of_this_channel(trained, personas, api_as):
    # Given a second partner, linked to a channel where WEEKLY never shopped
    other = factories.ChannelPartnerFactory(user__username="store_partner", channel=factories.ChannelFactory())
    own = api_as(personas["channel_partner"]).get("/api/recommendations/customers/WEEKLY/?k=2").json()
    theirs = api_as(other.user).get("/api/recommendations/customers/WEEKLY/?k=2").json()
    # Then the channel's own partner gets the personal list and the other partner only the popular items
    assert own["cold_start"] is False and own["results"][0]["sku"] == "COFFEE"
    assert theirs["cold_start"] is True
    assert {r["reason"] for r in theirs["results"]} == {"popular right now"}
