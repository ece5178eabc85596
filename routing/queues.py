"""Queues: which one a conversation waits in, and the operator's changes to them."""

from django.conf import settings
from django.db import transaction

from routing.models import Queue


def queue_for_subject(subject: str) -> Queue:
    """The queue named by `subject` (case-insensitive), else the default queue, which is
    created on first use (CHAT_DEFAULT_QUEUE) when no queue is marked default."""
    if subject and (queue := Queue.objects.filter(name__iexact=subject).first()):
        return queue
    default = Queue.objects.filter(is_default=True).first()
    if default is None:
        default = Queue.objects.filter(name__iexact=settings.CHAT_DEFAULT_QUEUE).first() or Queue(
            name=settings.CHAT_DEFAULT_QUEUE
        )
        default.is_default = True
        default.save()
    return default


def queue_named(name: str) -> Queue:
    """The queue of that name, whatever its case, created when missing."""
    return Queue.objects.filter(name__iexact=name).first() or Queue.objects.create(name=name)


@transaction.atomic
def queue_make_default(*, queue: Queue) -> list[Queue]:
    """Make `queue` the one that takes conversations whose subject names no queue, the only
    one; returns the queues that were the default until now."""
    # Lock every queue (there are few) so that two operators changing the default one after
    # the other leave one default, not two.
    list(Queue.objects.select_for_update().values_list("pk", flat=True))
    previous = list(Queue.objects.filter(is_default=True).exclude(pk=queue.pk))
    Queue.objects.filter(pk__in=[q.pk for q in previous]).update(is_default=False)
    Queue.objects.filter(pk=queue.pk).update(is_default=True)
    queue.is_default = True
    return previous


def offer_timeout(queue: Queue) -> int:
    return queue.offer_timeout_seconds or settings.CHAT_OFFER_TIMEOUT


def max_wait(queue: Queue) -> int:
    return queue.max_wait_seconds if queue.max_wait_seconds is not None else settings.CHAT_QUEUE_MAX_WAIT
