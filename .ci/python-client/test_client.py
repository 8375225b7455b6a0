"""A Python client generated from proto/ calls every public communique service.

It runs against a server holding the five seed articles (see python-client-check.sh, which
starts one), at COMMUNIQUE_ADDRESS (default 127.0.0.1:50051), with the stubs from generate.sh on
PYTHONPATH. Plain unittest, no pytest:

    PYTHONPATH=OUT COMMUNIQUE_ADDRESS=127.0.0.1:50051 python test_client.py [--counts-file F]
    PYTHONPATH=OUT python test_client.py --health-check ADDRESS   # exit 0 once SERVING

It ends with `unittest: N passed, M failed`; --counts-file also writes the counts as JSON.
"""

import argparse
import json
import os
import pathlib
import sys
import unittest

import grpc
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc

from communique.v1 import (
    annotation_pb2,
    article_pb2,
    article_pb2_grpc,
    common_pb2,
    entity_pb2,
    entity_pb2_grpc,
    stance_pb2,
    stance_pb2_grpc,
)

ADDRESS = os.environ.get("COMMUNIQUE_ADDRESS", "127.0.0.1:50051")
# Every call has a deadline: a hung server fails the test instead of hanging CI.
TIMEOUT = float(os.environ.get("COMMUNIQUE_RPC_TIMEOUT", "20"))
SEEDS = pathlib.Path(__file__).resolve().parents[2] / "seeds"

ARTICLE_ID = "000_d9314bceb94995f8"
ARTICLE_TITLE = "Boris Johnson finally responds to Iran crisis"
SOLEIMANI = "qasem-soleimani"
DOMAIN = "communique.v1"


def seed_ids():
    """The ids of the seed articles: a text file's name without its extension."""
    return {p.stem for p in SEEDS.iterdir() if p.is_file() and not p.name.startswith(".")}


def date_key(article):
    """Sort key for newest first, undated articles last."""
    if not article.HasField("published_date"):
        return (0, 0, 0)
    d = article.published_date
    return (d.year, d.month, d.day)


class ServerTestCase(unittest.TestCase):
    """One channel per test class, stubs for every public service, error-detail helpers."""

    channel = None

    @classmethod
    def setUpClass(cls):
        cls.channel = grpc.insecure_channel(ADDRESS)
        grpc.channel_ready_future(cls.channel).result(timeout=TIMEOUT)
        cls.articles = article_pb2_grpc.ArticleServiceStub(cls.channel)
        cls.entities = entity_pb2_grpc.EntityServiceStub(cls.channel)
        cls.stances = stance_pb2_grpc.StanceServiceStub(cls.channel)
        cls.health = health_pb2_grpc.HealthStub(cls.channel)

    @classmethod
    def tearDownClass(cls):
        if cls.channel is not None:
            cls.channel.close()

    def assert_rpc_error(self, method, request, code):
        """Calls method, expects an error with code, and returns the google.rpc.Status decoded
        from the `grpc-status-details-bin` trailer with its details unpacked by type name."""
        with self.assertRaises(grpc.RpcError) as caught:
            method(request, timeout=TIMEOUT)
        error = caught.exception
        self.assertEqual(error.code(), code, error.details())
        trailers = dict(error.trailing_metadata() or ())
        raw = trailers.get("grpc-status-details-bin")
        self.assertIsInstance(raw, bytes, f"no grpc-status-details-bin trailer in {trailers}")
        status = status_pb2.Status.FromString(raw)
        self.assertEqual(status.code, code.value[0])
        self.assertEqual(status.message, error.details())
        details = {}
        for any_detail in status.details:
            for detail_type in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest):
                if any_detail.Is(detail_type.DESCRIPTOR):
                    detail = detail_type()
                    self.assertTrue(any_detail.Unpack(detail))
                    details.setdefault(detail_type.__name__, []).append(detail)
        return status, details

    def assert_error_info(self, details, reason, metadata):
        self.assertIn("ErrorInfo", details, "no google.rpc.ErrorInfo in the details")
        info = details["ErrorInfo"][0]
        self.assertEqual(info.reason, reason)
        self.assertEqual(info.domain, DOMAIN)
        self.assertEqual(dict(info.metadata), metadata)

    def assert_field_violation(self, details, field):
        self.assertIn("BadRequest", details, "no google.rpc.BadRequest in the details")
        violations = details["BadRequest"][0].field_violations
        self.assertEqual([v.field for v in violations], [field])
        self.assertTrue(violations[0].description)


class ArticleServiceTest(ServerTestCase):
    def test_get_article_full(self):
        """GetArticle FULL: title, body, mentions and statements whose spans hold their text."""
        article = self.articles.GetArticle(
            article_pb2.GetArticleRequest(id=ARTICLE_ID, view=article_pb2.ARTICLE_VIEW_FULL),
            timeout=TIMEOUT,
        ).article
        self.assertEqual(article.id, ARTICLE_ID)
        self.assertEqual(article.title, ARTICLE_TITLE)
        self.assertTrue(article.body)
        self.assertTrue(article.statements, "no statements")
        self.assertTrue(article.mentions, "no mentions")
        self.assertEqual(article.statement_count, len(article.statements))
        self.assertEqual(article.mention_count, len(article.mentions))
        self.assertEqual(article.published_date, common_pb2.Date(year=2020, month=1, day=5))
        texts = {
            common_pb2.TEXT_FIELD_TITLE: article.title.encode("utf-8"),
            common_pb2.TEXT_FIELD_BODY: article.body.encode("utf-8"),
        }
        for item in list(article.statements) + list(article.mentions):
            span = item.span
            self.assertIn(span.field, texts, item)
            self.assertEqual(texts[span.field][span.start : span.end].decode("utf-8"), item.text)
        for statement in article.statements:
            self.assertTrue(statement.id.startswith(ARTICLE_ID + "/"), statement.id)
            self.assertEqual(statement.article_id, ARTICLE_ID)
            self.assertNotEqual(statement.kind, annotation_pb2.STATEMENT_KIND_UNSPECIFIED)
            self.assertTrue(statement.speaker.name)
        johnson = [s for s in article.statements if s.speaker.entity_id == "boris-johnson"]
        self.assertTrue(johnson, "no statement by boris-johnson")
        self.assertIn("GBR", {g.code for s in johnson for g in s.governments})

    def test_get_article_basic(self):
        """GetArticle BASIC: metadata and counts, no body, mentions or statements."""
        article = self.articles.GetArticle(
            article_pb2.GetArticleRequest(id=ARTICLE_ID), timeout=TIMEOUT
        ).article
        self.assertEqual(article.title, ARTICLE_TITLE)
        self.assertEqual(article.body, "")
        self.assertEqual(len(article.statements), 0)
        self.assertEqual(len(article.mentions), 0)
        self.assertGreater(article.statement_count, 0)
        self.assertIn("GBR", article.government_codes)

    def test_list_articles_pagination(self):
        """ListArticles page_size 2: pages of 2 with a token, every seed once, newest first."""
        request = article_pb2.ListArticlesRequest(page_size=2)
        first = self.articles.ListArticles(request, timeout=TIMEOUT)
        self.assertEqual(len(first.articles), 2)
        self.assertTrue(first.next_page_token)
        seen = list(first.articles)
        token = first.next_page_token
        for _ in range(10):
            if not token:
                break
            page = self.articles.ListArticles(
                article_pb2.ListArticlesRequest(page_size=2, page_token=token), timeout=TIMEOUT
            )
            self.assertLessEqual(len(page.articles), 2)
            self.assertTrue(page.articles)
            seen.extend(page.articles)
            token = page.next_page_token
        self.assertFalse(token, "more than 10 pages")
        ids = [a.id for a in seen]
        self.assertEqual(len(ids), len(set(ids)), f"an article on two pages: {ids}")
        self.assertEqual(set(ids), seed_ids())
        keys = [date_key(a) for a in seen]
        self.assertEqual(keys, sorted(keys, reverse=True), "not newest first")

    def test_list_articles_by_government(self):
        """ListArticles government_code GBR: only articles in which GBR speaks."""
        response = self.articles.ListArticles(
            article_pb2.ListArticlesRequest(government_code="GBR"), timeout=TIMEOUT
        )
        self.assertTrue(response.articles)
        for article in response.articles:
            self.assertIn("GBR", article.government_codes, article.id)

    def test_page_token_bound_to_query(self):
        """A page token sent with other filters: INVALID_ARGUMENT on page_token."""
        first = self.articles.ListArticles(
            article_pb2.ListArticlesRequest(page_size=2), timeout=TIMEOUT
        )
        _, details = self.assert_rpc_error(
            self.articles.ListArticles,
            article_pb2.ListArticlesRequest(
                page_size=2, page_token=first.next_page_token, government_code="USA"
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        self.assert_field_violation(details, "page_token")

    def test_get_article_not_found(self):
        """GetArticle of an unknown id: NOT_FOUND with google.rpc.ErrorInfo."""
        status, details = self.assert_rpc_error(
            self.articles.GetArticle,
            article_pb2.GetArticleRequest(id="no-such-article"),
            grpc.StatusCode.NOT_FOUND,
        )
        self.assertIn("no-such-article", status.message)
        self.assert_error_info(details, "ARTICLE_NOT_FOUND", {"article_id": "no-such-article"})

    def test_list_articles_negative_page_size(self):
        """ListArticles page_size -1: INVALID_ARGUMENT with a BadRequest field violation."""
        _, details = self.assert_rpc_error(
            self.articles.ListArticles,
            article_pb2.ListArticlesRequest(page_size=-1),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        self.assert_field_violation(details, "page_size")
        self.assert_error_info(details, "INVALID_ARGUMENT", {"field": "page_size"})


class EntityServiceTest(ServerTestCase):
    def search(self, query):
        response = self.entities.SearchEntities(
            entity_pb2.SearchEntitiesRequest(query=query), timeout=TIMEOUT
        )
        self.assertTrue(response.entities, f"nothing found for {query!r}")
        self.assertEqual(len(response.matches), len(response.entities))
        return response

    def test_search_exact(self):
        """SearchEntities "Soleimani": qasem-soleimani first, an exact alias match."""
        response = self.search("Soleimani")
        self.assertEqual(response.entities[0].id, SOLEIMANI)
        self.assertEqual(response.matches[0].entity_id, SOLEIMANI)
        self.assertEqual(response.matches[0].match_type, entity_pb2.MATCH_TYPE_EXACT)

    def test_search_typo(self):
        """SearchEntities "Soleimany": the typo still finds qasem-soleimani first."""
        response = self.search("Soleimany")
        self.assertEqual(response.entities[0].id, SOLEIMANI)
        self.assertEqual(response.matches[0].match_type, entity_pb2.MATCH_TYPE_FUZZY)
        self.assertGreater(response.matches[0].score, 0)
        self.assertLessEqual(response.matches[0].score, 1)

    def test_get_entity(self):
        """GetEntity qasem-soleimani: name, kind, aliases, IRN role, counts."""
        entity = self.entities.GetEntity(
            entity_pb2.GetEntityRequest(id=SOLEIMANI), timeout=TIMEOUT
        ).entity
        self.assertEqual(entity.id, SOLEIMANI)
        self.assertEqual(entity.name, "Qasem Soleimani")
        self.assertEqual(entity.kind, common_pb2.ENTITY_KIND_PERSON)
        self.assertIn("Qassem Soleimani", entity.aliases)
        self.assertIn("IRN", [a.government_code for a in entity.affiliations])
        self.assertGreaterEqual(entity.article_count, 1)
        self.assertGreaterEqual(entity.mention_count, entity.article_count)

    def test_list_mentions(self):
        """ListMentions qasem-soleimani page_size 2: two mentions in their sentences, then more."""
        first = self.entities.ListMentions(
            entity_pb2.ListMentionsRequest(entity_id=SOLEIMANI, page_size=2), timeout=TIMEOUT
        )
        self.assertEqual(len(first.mentions), 2)
        self.assertTrue(first.next_page_token)
        second = self.entities.ListMentions(
            entity_pb2.ListMentionsRequest(
                entity_id=SOLEIMANI, page_size=2, page_token=first.next_page_token
            ),
            timeout=TIMEOUT,
        )
        self.assertTrue(second.mentions)
        mentions = list(first.mentions) + list(second.mentions)
        keys = [(m.article_id, m.span.field, m.span.start) for m in mentions]
        self.assertEqual(len(keys), len(set(keys)), "a mention on two pages")
        for mention in mentions:
            self.assertEqual(mention.entity_id, SOLEIMANI)
            self.assertIn(mention.article_id, seed_ids())
            self.assertTrue(mention.text)
            self.assertIn(mention.text, mention.sentence)

    def test_get_entity_not_found(self):
        """GetEntity of an unknown id: NOT_FOUND with google.rpc.ErrorInfo."""
        _, details = self.assert_rpc_error(
            self.entities.GetEntity,
            entity_pb2.GetEntityRequest(id="no-such-entity"),
            grpc.StatusCode.NOT_FOUND,
        )
        self.assert_error_info(details, "ENTITY_NOT_FOUND", {"entity_id": "no-such-entity"})

    def test_search_requires_query(self):
        """SearchEntities without a query: INVALID_ARGUMENT on query."""
        _, details = self.assert_rpc_error(
            self.entities.SearchEntities,
            entity_pb2.SearchEntitiesRequest(),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
        self.assert_field_violation(details, "query")


class StanceServiceTest(ServerTestCase):
    def test_compare_stances_iran(self):
        """CompareStances "Iran": rows for USA and GBR with negative scores and evidence."""
        response = self.stances.CompareStances(
            stance_pb2.CompareStancesRequest(target="Iran"), timeout=TIMEOUT
        )
        self.assertEqual(response.target.government_code, "IRN")
        rows = {row.government.code: row for row in response.rows}
        for code in ("USA", "GBR"):
            self.assertIn(code, rows, f"no row for {code}: {sorted(rows)}")
            row = rows[code]
            self.assertLess(row.score, 0, f"{code} score {row.score}")
            self.assertGreaterEqual(row.statement_count, 1)
            self.assertTrue(row.evidence, f"{code} has no evidence")
            self.assertLessEqual(len(row.evidence), 3)
            for evidence in row.evidence:
                statement = evidence.statement
                self.assertIn(code, [g.code for g in statement.governments])
                self.assertIn(response.target.id, [t.entity_id for t in statement.targets])
                self.assertIn(statement.article_id, evidence.source_article_ids)
        for row in response.rows:
            self.assertGreaterEqual(row.score, -1)
            self.assertLessEqual(row.score, 1)
        counts = [row.statement_count for row in response.rows]
        self.assertEqual(counts, sorted(counts, reverse=True), "not most statements first")

    def test_compare_stances_one_government(self):
        """CompareStances "Iran" for USA only: one row, USA's."""
        response = self.stances.CompareStances(
            stance_pb2.CompareStancesRequest(target="Iran", government_codes=["USA"]),
            timeout=TIMEOUT,
        )
        self.assertEqual([row.government.code for row in response.rows], ["USA"])

    def test_list_statements_gbr(self):
        """ListStatements government_code GBR: statements spoken for GBR, paginated."""
        response = self.stances.ListStatements(
            stance_pb2.ListStatementsRequest(government_code="GBR", page_size=5),
            timeout=TIMEOUT,
        )
        self.assertEqual(len(response.statements), 5)
        self.assertTrue(response.next_page_token)
        for statement in response.statements:
            self.assertIn("GBR", [g.code for g in statement.governments], statement.id)
            self.assertTrue(statement.text)


class HealthTest(ServerTestCase):
    def test_health_serving(self):
        """grpc.health.v1.Health/Check: SERVING."""
        response = self.health.Check(health_pb2.HealthCheckRequest(), timeout=TIMEOUT)
        self.assertEqual(response.status, health_pb2.HealthCheckResponse.SERVING)


class CountingResult(unittest.TextTestResult):
    """unittest's text result, also counting the tests that passed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.passed = 0

    def addSuccess(self, test):  # noqa: N802 - unittest's name
        super().addSuccess(test)
        self.passed += 1


def health_check(address):
    """One bounded Health/Check: 0 when SERVING, 1 otherwise (for the start-up wait)."""
    with grpc.insecure_channel(address) as channel:
        try:
            response = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=5
            )
        except grpc.RpcError as error:
            print(f"health: {error.code()}", file=sys.stderr)
            return 1
    return 0 if response.status == health_pb2.HealthCheckResponse.SERVING else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--health-check", metavar="ADDRESS", help="probe once and exit")
    parser.add_argument("--counts-file", help="write {passed, failed} as JSON here")
    args = parser.parse_args()
    if args.health_check:
        return health_check(args.health_check)

    print(f"communique at {ADDRESS}, grpcio {grpc.__version__}", flush=True)
    suite = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    # Errors in setUpClass count too: they are failures that no test ran for.
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.passed
    if args.counts_file:
        with open(args.counts_file, "w", encoding="utf-8") as f:
            json.dump({"passed": passed, "failed": failed}, f)
    print(f"unittest: {passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
