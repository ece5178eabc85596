"""SQLite's one writer is queued in the process (chatserver/sqlite/base.py): a transaction
holds its database's lock from BEGIN to COMMIT or ROLLBACK, and a second thread's transaction
begins only once the first has ended."""

import threading

import pytest
from django.db import connection, transaction

from chatserver.sqlite.base import _writer_of
from routing.models import Queue

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backend's writer queue"),
]


def writer():
    return _writer_of(str(connection.settings_dict["NAME"]))


def test_a_transaction_holds_the_writer_until_it_commits():
    assert not writer().locked()
    with transaction.atomic():
        Queue.objects.create(name="first")
        assert writer().locked()
        with transaction.atomic():  # a savepoint: the same transaction, nothing more to take
            Queue.objects.create(name="second")
    assert not writer().locked()
    assert Queue.objects.filter(name__in=["first", "second"]).count() == 2


def test_a_transaction_rolled_back_lets_the_writer_go():
    with pytest.raises(ZeroDivisionError), transaction.atomic():
        Queue.objects.create(name="never")
        1 / 0  # noqa: B018
    assert not writer().locked()
    assert not Queue.objects.filter(name="never").exists()


def test_a_second_threads_transaction_begins_once_the_first_has_committed():
    inside, go_on, events = threading.Event(), threading.Event(), []

    def first():
        with transaction.atomic():
            Queue.objects.create(name="first")
            inside.set()
            go_on.wait(10)
            events.append("first commits")
        connection.close()

    def second():
        with transaction.atomic():
            events.append("second begins")
            Queue.objects.create(name="second")
        connection.close()

    one = threading.Thread(target=first)
    one.start()
    assert inside.wait(10)
    two = threading.Thread(target=second)
    two.start()
    two.join(0.5)
    assert two.is_alive() and events == []  # waiting for the writer, not inside its transaction
    go_on.set()
    one.join(10)
    two.join(10)
    assert events == ["first commits", "second begins"]
    assert not writer().locked()
    assert set(Queue.objects.values_list("name", flat=True)) >= {"first", "second"}
