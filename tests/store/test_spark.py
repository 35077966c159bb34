"""The rates' SQL on PySpark in local mode, over the store's Parquet export, gives the store's numbers.

Spark needs Java. Without it the test is skipped on a developer's machine, and fails in CI (``CI`` set),
where ``.ci/run`` installs Debian's ``default-jre-headless``: a skipped test would check nothing there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

from catena_nb.sandbox.sim.history import generate_history
from catena_nb.sandbox.sim.records import lookup_shape
from catena_nb.sandbox.sim.world import build_world
from catena_nb.store import AuditStore
from catena_nb.store.rates import finish, rates_sql
from tests.store.test_rates import assert_rates_equal

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    """A local Spark session in UTC (a missing Java skips only outside CI)."""
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        if os.environ.get("CI"):
            pytest.fail("Java is missing in CI: .ci/run should have installed default-jre-headless")
        pytest.skip("no Java on this machine (apt-get install default-jre-headless); CI runs this test")
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: no address but the loopback
    session = (
        SparkSession.builder.master("local[1]")
        .appName("catena-nb-rates")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[AuditStore, Any]:
    """A store of five days of history, and the folder of its Parquet export."""
    hist = generate_history(build_world(5), 5, 5, "2026-11-01")
    ops = [lookup_shape(op) for op in hist.operations]
    for op in ops[::40]:
        op["status"] = "pending"
    root = tmp_path_factory.mktemp("spark")
    store = AuditStore(root / "audit.duckdb")
    store.upsert(ops)
    folders = store.export_parquet(root / "export")
    return store, folders["operations"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("by", "freq"), [(None, None), (["source_name", "error_type"], None), ("source_name", "h"), (None, "W"),
                     ("error_type", "MS")],
)  # fmt: skip
def test_rates_sql_on_spark_equals_the_store(spark, exported, by, freq):
    """The same query, run by Spark on the exported Parquet, equals AuditStore.rates to 1e-12."""
    store, folder = exported
    frame = spark.read.parquet(str(folder))
    assert dict(frame.dtypes)["date"] == "date"  # the Hive partition, read as it is
    frame.createOrReplaceTempView("operations")
    # collected as rows (PySpark's toPandas warns about this pandas version): the result is small
    result = spark.sql(rates_sql("operations", by, freq, dialect="spark"))
    raw = pd.DataFrame([row.asDict() for row in result.collect()], columns=result.columns)
    got = finish(raw, by, freq)
    expected = store.rates(by=by, freq=freq)
    keys = [] if by is None else [by] if isinstance(by, str) else by
    assert_rates_equal(got, expected, keys)
    if freq:
        assert pd.Series(got["period"]).tolist() == expected["period"].tolist()
