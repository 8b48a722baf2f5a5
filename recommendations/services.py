"""Writes of the recommendations app: queue a run, train and store its lists, activate it, record channel events."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from retailai.commerce.models import Channel, Customer, Product
from retailai.core.choices import JobStatus
from retailai.core.errors import Conflict, ValidationFailed
from retailai.core.models import JobRun
from retailai.core.services import audit_event_record, job_run_create, job_run_fail, job_run_progress, job_run_start

from .engine import candidates as cand
from .engine.basket import BasketConfig, BoughtTogether
from .engine.evaluate import evaluate, truth_sets
from .engine.interactions import build_interactions, clean_events
from .engine.pipeline import RecommendConfig, recommend
from .engine.rules import RuleConfig
from .models import BehaviourEvent, CustomerRecommendation, EventKind, RecommendationRun, SimilarItem, SimilarKind
from .selectors import baskets_frame, interactions_frame, items_frame, serving_run_forget

# Events may come a little early by the channel's clock; beyond this they are refused.
EVENT_CLOCK_SKEW = timedelta(minutes=5)


def recommendation_run_create(*, top_n: int | None = None, user=None) -> RecommendationRun:
    """Queue a retrain-and-score run."""
    top_n = top_n or settings.RECOMMENDATIONS_TOP_N
    if top_n < 1:
        raise ValidationFailed("A run must store at least one item per customer.", field="top_n")
    with transaction.atomic():
        job = job_run_create(kind="recommendations", parameters={"top_n": top_n}, user=user)
        return RecommendationRun.objects.create(job=job, top_n=top_n)


@dataclass
class _Trained:
    """What one training pass produced, in the engine's ids (customer external ids and SKUs)."""

    recommendations: pd.DataFrame  # user_id, rank, item_id, score, reason
    similar: pd.DataFrame  # item_id, similar_item_id, score
    together: pd.DataFrame  # antecedent, consequent, confidence, count
    popular: list[tuple[str, float, str]]  # the cold-start list: item, score, reason
    ranker: str
    as_of: pd.Timestamp
    metrics: dict


def _config(top_n: int) -> RecommendConfig:
    # Stock is a read-time rule: lists are stored unfiltered so a product back in stock shows up at once.
    return RecommendConfig(k=top_n, seed=0, rules=RuleConfig(drop_out_of_stock=False))


def _offline_metrics(events: pd.DataFrame, items: pd.DataFrame, top_n: int) -> dict:
    """Recall/NDCG/hit rate at 10 on the last holdout window, trained on everything before it."""
    days = settings.RECOMMENDATIONS_HOLDOUT_DAYS
    purchases = events[events["event"] == "purchase"]
    if purchases.empty:
        return {}
    cut = purchases["timestamp"].max() + pd.Timedelta(seconds=1) - pd.Timedelta(days=days)
    past, future = events[events["timestamp"] < cut], purchases[purchases["timestamp"] >= cut]
    future = future[future["user_id"].isin(set(past["user_id"]))]
    truth = truth_sets(future)
    if len(truth) < settings.RECOMMENDATIONS_EVAL_MIN_USERS or past.empty:
        return {}
    k = min(10, top_n)
    users = pd.DataFrame({"user_id": sorted(truth)})
    result = recommend(past, users, items, _config(k))
    scores = evaluate(result.recommendations, truth, k=k, n_catalogue=max(len(items), 1))
    return {"holdout_days": days, **{key: round(float(v), 4) for key, v in scores.as_dict().items()}}


def _train(top_n: int, similar_n: int) -> _Trained:
    """Load the order book and events, fit the engine, and score every known customer."""
    events = interactions_frame()
    items = items_frame()
    users = pd.DataFrame({"user_id": sorted(set(Customer.objects.values_list("external_id", flat=True)))})
    users = users[users["user_id"].isin(set(events["user_id"]))]
    result = recommend(events, users, items, _config(top_n))
    clean = clean_events(events)
    similar = pd.DataFrame(columns=["item_id", "similar_item_id", "score"])
    # Customers with no list are new: they get the list the engine chose on recent new customers.
    popular = result.cold_start
    if not clean.empty:
        inter = build_interactions(clean, clean=False)
        knn = cand.ItemKNN().fit(inter)
        similar = knn.similar_items(inter.item_ids, similar_n)
    baskets = baskets_frame()
    together = pd.DataFrame(columns=["antecedent", "consequent", "confidence", "count"])
    if not baskets.empty:
        rules = BoughtTogether(BasketConfig(min_count=2)).fit(baskets).rules
        if not rules.empty:
            rules = rules.sort_values(["antecedent", "confidence", "consequent"], ascending=[True, False, True])
            together = rules.groupby("antecedent", sort=False).head(similar_n)
    metrics = {"customers": len(users), "products": int(clean["item_id"].nunique()) if len(clean) else 0}
    if settings.RECOMMENDATIONS_EVALUATE:
        metrics.update(_offline_metrics(clean, items, top_n))
    return _Trained(result.recommendations, similar, together, popular, result.ranker, result.as_of, metrics)


def _store(run: RecommendationRun, trained: _Trained) -> None:
    """Replace the run's stored lists with the trained ones (a re-run of the same run gives the same rows)."""
    skus = dict(Product.objects.values_list("sku", "pk"))
    customers = dict(Customer.objects.values_list("external_id", "pk"))
    recs = [
        CustomerRecommendation(
            run=run,
            customer_id=customers[str(r.user_id)],
            rank=int(r.rank),
            product_id=skus[str(r.item_id)],
            score=float(r.score),
            reason=str(r.reason)[:255],
        )
        for r in trained.recommendations.itertuples(index=False)
        if str(r.user_id) in customers and str(r.item_id) in skus
    ]
    neighbours = _similar_rows(run, trained.similar, skus)
    neighbours += _together_rows(run, trained.together, skus)
    with transaction.atomic():
        CustomerRecommendation.objects.filter(run=run).delete()
        SimilarItem.objects.filter(run=run).delete()
        CustomerRecommendation.objects.bulk_create(recs, batch_size=5000)
        SimilarItem.objects.bulk_create(neighbours, batch_size=5000)
        RecommendationRun.objects.filter(pk=run.pk).update(
            trained_until=_aware(trained.as_of),
            ranker=trained.ranker[:40],
            customers_total=len({r.customer_id for r in recs}),
            products_total=trained.metrics.get("products", 0),
            popular=[[skus[s], round(v, 6), reason] for s, v, reason in trained.popular if s in skus],
            metrics=trained.metrics,
        )


def _similar_rows(run: RecommendationRun, frame: pd.DataFrame, skus: dict[str, int]) -> list[SimilarItem]:
    rows: list[SimilarItem] = []
    rank: dict[str, int] = {}
    for r in frame.itertuples(index=False):
        a, b = str(r.item_id), str(r.similar_item_id)
        if a not in skus or b not in skus or a == b:
            continue
        rank[a] = rank.get(a, 0) + 1
        rows.append(
            SimilarItem(
                run=run,
                product_id=skus[a],
                kind=SimilarKind.SIMILAR,
                rank=rank[a],
                similar_id=skus[b],
                score=float(r.score),
                reason="bought by the same customers",
            )
        )
    return rows


def _together_rows(run: RecommendationRun, frame: pd.DataFrame, skus: dict[str, int]) -> list[SimilarItem]:
    rows: list[SimilarItem] = []
    rank: dict[str, int] = {}
    for r in frame.itertuples(index=False):
        a, b = str(r.antecedent), str(r.consequent)
        if a not in skus or b not in skus or a == b:
            continue
        rank[a] = rank.get(a, 0) + 1
        rows.append(
            SimilarItem(
                run=run,
                product_id=skus[a],
                kind=SimilarKind.TOGETHER,
                rank=rank[a],
                similar_id=skus[b],
                score=float(r.confidence),
                reason=f"in the same basket {int(r.count)} times",
            )
        )
    return rows


def _aware(ts: pd.Timestamp | None) -> datetime | None:
    if ts is None or pd.isna(ts):
        return None
    ts = pd.Timestamp(ts)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.to_pydatetime().astimezone(UTC)


def recommendation_run_execute(*, run_id: int, task_id: str = "") -> RecommendationRun:
    """Train, store the lists and activate the run; on failure the run is failed and the active one keeps serving.

    A queued run is claimed; a running one (a retried task) is re-done; any other state is a conflict."""
    run = RecommendationRun.objects.select_related("job").get(pk=run_id)
    if run.job.status == JobStatus.QUEUED:
        job_run_start(run_id=run.job_id, task_id=task_id)
    elif run.job.status != JobStatus.RUNNING:
        raise Conflict(f"Recommendation run {run_id} is {run.job.status}; only a queued or running run can execute.")
    try:
        job_run_progress(run_id=run.job_id, progress=5, message="loading orders and events")
        trained = _train(run.top_n, settings.RECOMMENDATIONS_SIMILAR_N)
        job_run_progress(run_id=run.job_id, progress=80, message=f"{trained.metrics['customers']} customers scored")
        _store(run, trained)
        return recommendation_run_activate(run_id=run_id)
    except Exception as exc:
        recommendation_run_fail(run_id=run_id, error=f"{type(exc).__name__}: {exc}\n\n{traceback.format_exc()}")
        raise


def recommendation_run_activate(*, run_id: int) -> RecommendationRun:
    """Make a stored run the one served; the previous active run steps down in the same transaction."""
    with transaction.atomic():
        run = RecommendationRun.objects.select_for_update().select_related("job").get(pk=run_id)
        if run.job.status != JobStatus.RUNNING:
            raise Conflict(f"Recommendation run {run_id} is {run.job.status}; only a running run can complete.")
        previous = RecommendationRun.objects.filter(is_active=True).exclude(pk=run_id)
        previous_ids = list(previous.values_list("pk", flat=True))
        previous.update(is_active=False)
        run.is_active = True
        run.activated_at = timezone.now()
        run.save(update_fields=["is_active", "activated_at"])
        JobRun.objects.filter(pk=run.job_id).update(
            status=JobStatus.SUCCEEDED, progress=100, metrics=run.metrics, finished_at=timezone.now(),
            message=f"{run.customers_total} customers, {run.products_total} products",
        )  # fmt: skip
        audit_event_record(
            actor=run.job.created_by, verb="recommendation_run.activate", obj=run,
            before={"active_runs": previous_ids}, after={"active_run": run.pk},
        )  # fmt: skip
        _purge_old_lists(keep=settings.RECOMMENDATIONS_KEEP_RUNS)
    # After the commit, so a reader never caches the old run again once this has run.
    serving_run_forget()
    run.job.refresh_from_db()
    return run


def _purge_old_lists(*, keep: int) -> None:
    """Drop the stored lists of all but the latest `keep` succeeded runs (the run rows and metrics stay)."""
    kept = list(
        RecommendationRun.objects.filter(job__status=JobStatus.SUCCEEDED)
        .order_by("-activated_at", "-pk")
        .values_list("pk", flat=True)[: max(keep, 1)]
    )
    old = RecommendationRun.objects.exclude(pk__in=kept).filter(is_active=False, job__status=JobStatus.SUCCEEDED)
    CustomerRecommendation.objects.filter(run__in=old).delete()
    SimilarItem.objects.filter(run__in=old).delete()


def recommendation_run_fail(*, run_id: int, error: str) -> None:
    """Mark a run failed; the previously active run keeps serving."""
    run = RecommendationRun.objects.get(pk=run_id)
    job_run_fail(run_id=run.job_id, error=error)


def behaviour_event_record(
    *, channel: Channel, customer_external_id: str, sku: str, kind: str, at: datetime | None = None
) -> BehaviourEvent:
    """Store one view or add-to-cart a channel saw; nothing is written when any field is invalid."""
    customer_external_id = (customer_external_id or "").strip()
    if not customer_external_id or len(customer_external_id) > 64:
        raise ValidationFailed("A customer id of 1 to 64 characters is required.", field="customer")
    if kind not in EventKind.values:
        raise ValidationFailed(f"Unknown event kind {kind!r}; use view or cart.", field="kind")
    product = Product.objects.filter(sku=(sku or "").strip()).only("pk", "is_merchandise", "active").first()
    if product is None:
        raise ValidationFailed(f"Unknown SKU {sku!r}.", field="sku")
    if not product.is_merchandise or not product.active:
        raise ValidationFailed(f"{sku} is not an active product.", field="sku")
    now = timezone.now()
    at = at or now
    if timezone.is_naive(at):
        raise ValidationFailed("The time must carry a time zone.", field="at")
    if at > now + EVENT_CLOCK_SKEW:
        raise ValidationFailed("The event time is in the future.", field="at")
    customer = Customer.objects.filter(external_id=customer_external_id).only("pk").first()
    return BehaviourEvent.objects.create(
        channel=channel,
        customer_external_id=customer_external_id,
        customer=customer,
        product=product,
        kind=kind,
        at=at,
    )
