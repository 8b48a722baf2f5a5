"""Promotions: the model's constraints, import_promotions (idempotent, bad rows named, dry run) and the read API."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction

from retailai.commerce.models import Promotion
from retailai.core.models import JobRun
from tests import factories

pytestmark = pytest.mark.django_db

PROMOTIONS = """\
promotion_id,sku,name,start_date,end_date,kinds,discount_depth,promo_price,channel,location
SPRING,TEA-1,Spring teapots,2024-03-04,2024-03-10,feature;tpr,0.25,,,
SPRING,TEA-2,Spring teapots,2024-03-04,2024-03-10,display,,,web,
EASTER,TEA-1,,2024-03-28,2024-04-01,tpr,,7.50,web,STORE-1
"""


@pytest.fixture
def catalogue(web_channel):
    factories.ProductFactory(sku="TEA-1", list_price=Decimal("10"))
    factories.ProductFactory(sku="TEA-2")


def _promotions() -> list[tuple]:
    return list(
        Promotion.objects.order_by("code", "product__sku").values_list(
            "code", "product__sku", "channel__code", "location_code", "start_date", "end_date", "is_feature",
            "is_display", "is_price_reduction", "discount_depth", "promo_price", "name",
        )
    )  # fmt: skip


def test_import_creates_promotions(catalogue, csv_file, run_command):
    out = run_command("import_promotions", csv_file("promotions.csv", PROMOTIONS))

    assert "3 rows read, 3 imported, 0 rejected" in out
    assert "promotions created: 3" in out
    assert _promotions() == [
        ("EASTER", "TEA-1", "web", "STORE-1", date(2024, 3, 28), date(2024, 4, 1), False, False, True, None,
         Decimal("7.5"), ""),
        ("SPRING", "TEA-1", None, "", date(2024, 3, 4), date(2024, 3, 10), True, False, True, Decimal("0.25"),
         None, "Spring teapots"),
        ("SPRING", "TEA-2", "web", "", date(2024, 3, 4), date(2024, 3, 10), False, True, False, None, None,
         "Spring teapots"),
    ]  # fmt: skip
    assert JobRun.objects.get().kind == "import_promotions"


def test_reimport_changes_nothing_and_updates_what_changed(catalogue, csv_file, run_command):
    run_command("import_promotions", csv_file("promotions.csv", PROMOTIONS))
    before = _promotions()
    stamps = dict(Promotion.objects.values_list("pk", "updated_at"))

    again = run_command("import_promotions", csv_file("promotions.csv", PROMOTIONS))

    assert "promotions created: 0" in again and "promotions updated: 0" in again
    assert _promotions() == before
    assert dict(Promotion.objects.values_list("pk", "updated_at")) == stamps

    moved = PROMOTIONS.replace("2024-03-28,2024-04-01", "2024-03-29,2024-04-02")
    changed = run_command("import_promotions", csv_file("moved.csv", moved))

    assert "promotions created: 0" in changed and "promotions updated: 1" in changed
    easter = Promotion.objects.get(code="EASTER")
    assert (easter.start_date, easter.end_date) == (date(2024, 3, 29), date(2024, 4, 2))


def test_bad_rows_are_named_and_nothing_is_written(catalogue, csv_file, run_command):
    bad = (
        PROMOTIONS.replace("2024-03-04,2024-03-10,feature;tpr,0.25", "2024-03-04,2024-03-01,feature;tpr,1.0")
        .replace("display,,,web", "banner,,,web")
        .replace("tpr,,7.50,web", "tpr,,7.50,shop")
        + "SUMMER,NOPE,,2024-06-01,2024-06-30,tpr,0.1,,,\n"
        + "SUMMER,TEA-2,,01/06/2024,,,,,,\n"
    )
    path = csv_file("promotions.csv", bad)

    with pytest.raises(CommandError) as raised:
        run_command("import_promotions", path)

    message = str(raised.value)
    assert f"{path}:2: column end_date: must be on or after start_date" in message
    assert f"{path}:2: column discount_depth: must be below 1 (0.25 is 25% off)" in message
    assert f"{path}:3: column kinds: must be one or more of feature, display, tpr" in message
    assert f"{path}:4: column channel: unknown channel" in message
    assert f"{path}:5: column sku: unknown SKU" in message
    assert f"{path}:6: column start_date: not a valid date (YYYY-MM-DD)" in message
    assert f"{path}:6: column end_date: a value is required" in message
    assert f"{path}:6: column kinds: a value is required" in message
    assert "Nothing was imported" in message
    assert Promotion.objects.count() == 0 and JobRun.objects.count() == 0


def test_dry_run_and_skip_invalid(catalogue, csv_file, run_command):
    path = csv_file("promotions.csv", PROMOTIONS + "SPRING,TEA-1,,2024-03-04,2024-03-10,tpr,,,,\n")

    dry = run_command("import_promotions", path, "--dry-run", "--skip-invalid")

    assert "4 rows read, 3 would be imported, 1 rejected" in dry and "promotions created: 3" in dry
    assert Promotion.objects.count() == 0 and JobRun.objects.count() == 0

    out = run_command("import_promotions", path, "--skip-invalid")

    assert "4 rows read, 3 imported, 1 rejected" in out
    with open(f"{path}.rejects.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["promotion_id"], r["reason"]) for r in rows] == [
        ("SPRING", "column location: repeats the promotion_id, sku, channel and location of an earlier row")
    ]
    assert Promotion.objects.count() == 3


def test_missing_column_refuses_the_file(catalogue, csv_file, run_command):
    path = csv_file("promotions.csv", "promotion_id,sku,start_date,end_date\nX,TEA-1,2024-01-01,2024-01-02\n")

    with pytest.raises(CommandError, match=r"promotions\.csv:1: column kinds: missing column"):
        run_command("import_promotions", path)
    assert Promotion.objects.count() == 0


def test_database_constraints_back_the_rules(catalogue):
    product = factories.ProductFactory(sku="TEA-9")
    base = dict(code="X", product=product, start_date=date(2024, 1, 10), end_date=date(2024, 1, 12), is_feature=True)
    for broken in (
        {"end_date": date(2024, 1, 9)},
        {"discount_depth": Decimal("1")},
        {"discount_depth": Decimal("-0.1")},
        {"is_feature": False},
    ):
        with pytest.raises(ValidationError):
            Promotion(**{**base, **broken}).full_clean()
        with pytest.raises(IntegrityError), transaction.atomic():
            Promotion.objects.create(**{**base, **broken})
    Promotion.objects.create(**base)
    with pytest.raises(IntegrityError), transaction.atomic():
        Promotion.objects.create(**base)  # the same promotion id, product and place (all channels) twice
    assert Promotion.objects.count() == 1


def test_promotion_api_is_for_the_retailers_roles(catalogue, csv_file, run_command, personas, api_as):
    run_command("import_promotions", csv_file("promotions.csv", PROMOTIONS))

    as_buyer = api_as(personas["buyer"]).get("/api/promotions/", {"sku": "TEA-1", "date_from": "2024-03-20"})

    assert as_buyer.status_code == 200
    assert [(r["promotion_id"], r["kinds"], r["promo_price"], r["channel"]) for r in as_buyer.json()["results"]] == [
        ("EASTER", ["tpr"], "7.5000", "web")
    ]
    running = api_as(personas["staff"]).get("/api/promotions/", {"date_from": "2024-03-05", "date_to": "2024-03-05"})
    assert sorted((r["sku"], r["kinds"]) for r in running.json()["results"]) == [
        ("TEA-1", ["feature", "tpr"]),
        ("TEA-2", ["display"]),
    ]
    for who in ("supplier_partner", "channel_partner", "outsider"):
        assert api_as(personas[who]).get("/api/promotions/").status_code == 403
    assert api_as(None).get("/api/promotions/").status_code == 401
    assert api_as(personas["staff"]).post("/api/promotions/", {}).status_code == 405


def test_staff_find_promotions_in_the_admin_with_a_link_to_the_forecast_chart(catalogue, csv_file, run_command, client,
                                                                              personas):  # fmt: skip
    run_command("import_promotions", csv_file("promotions.csv", PROMOTIONS))
    easter = Promotion.objects.get(code="EASTER")
    client.force_login(personas["staff"])

    listing = client.get("/admin/commerce/promotion/", {"q": "TEA-1"})
    detail = client.get(f"/admin/commerce/promotion/{easter.pk}/change/")

    assert listing.status_code == 200 and b"EASTER" in listing.content and b"SPRING" in listing.content
    assert detail.status_code == 200
    assert b'href="/forecasts/product/TEA-1/"' in detail.content


def test_promotions_are_in_the_api_schema(personas, api_as):
    schema = api_as(personas["staff"]).get("/api/schema/", {"format": "json"}).json()

    listing = schema["paths"]["/api/promotions/"]["get"]
    assert {"sku", "promotion_id", "channel", "location", "date_from", "date_to"} <= {
        p["name"] for p in listing["parameters"]
    }
    assert "post" not in schema["paths"]["/api/promotions/"]


@pytest.mark.parametrize("rows", [3, 30])
def test_promotion_list_query_count_is_constant(personas, api_as, django_assert_num_queries, rows):
    for _ in range(rows):
        factories.PromotionFactory(channel=personas["channel_partner"].channel_partner.channel,
                                   start_date=date(2024, 1, 1), end_date=date(2024, 1, 7))  # fmt: skip
    client = api_as(personas["buyer"])

    # token + user, roles, count, page (products and channels joined)
    with django_assert_num_queries(4):
        response = client.get("/api/promotions/")

    assert response.json()["count"] == rows
