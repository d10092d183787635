"""starlette.background: BackgroundTask and BackgroundTasks, awaited directly (the response
integration has its own test at the end, through the TestClient)."""

from __future__ import annotations

import functools
import threading

import pytest

from starlette.background import BackgroundTask, BackgroundTasks
from starlette.responses import PlainTextResponse, Response
from starlette.types import Message, Receive, Scope, Send
from tests.types import TestClientFactory


@pytest.mark.anyio
async def test_async_task_is_awaited_with_its_arguments() -> None:
    calls: list[tuple[int, str]] = []

    async def record(number: int, *, label: str) -> None:
        calls.append((number, label))

    task = BackgroundTask(record, 1, label="one")
    assert task.is_async is True
    assert task.func is record
    assert task.args == (1,)
    assert task.kwargs == {"label": "one"}
    assert calls == []
    await task()
    assert calls == [(1, "one")]


@pytest.mark.anyio
async def test_sync_task_runs_in_a_worker_thread() -> None:
    threads: list[int] = []

    def record(value: str) -> None:
        threads.append(threading.get_ident())
        assert value == "sync"

    task = BackgroundTask(record, value="sync")
    assert task.is_async is False
    await task()
    assert len(threads) == 1
    assert threads[0] != threading.get_ident()


@pytest.mark.anyio
async def test_task_can_run_more_than_once() -> None:
    counter: list[None] = []

    async def bump() -> None:
        counter.append(None)

    task = BackgroundTask(bump)
    await task()
    await task()
    assert len(counter) == 2


@pytest.mark.anyio
async def test_partial_of_a_coroutine_function_is_awaited() -> None:
    calls: list[str] = []

    async def record(prefix: str, value: str) -> None:
        calls.append(prefix + value)

    task = BackgroundTask(functools.partial(record, "a"), "b")
    assert task.is_async is True
    await task()
    assert calls == ["ab"]


@pytest.mark.anyio
async def test_callable_object_with_async_call_is_awaited() -> None:
    class Notifier:
        def __init__(self) -> None:
            self.sent: list[str] = []
            self.thread: int | None = None

        async def __call__(self, message: str) -> None:
            self.thread = threading.get_ident()
            self.sent.append(message)

    notifier = Notifier()
    task = BackgroundTask(notifier, "hello")
    assert task.is_async is True
    await task()
    assert notifier.sent == ["hello"]
    assert notifier.thread == threading.get_ident()


@pytest.mark.anyio
async def test_task_exception_propagates() -> None:
    async def fail() -> None:
        raise RuntimeError("task failed")

    with pytest.raises(RuntimeError, match="task failed"):
        await BackgroundTask(fail)()


@pytest.mark.anyio
async def test_background_tasks_run_in_order() -> None:
    order: list[str] = []

    async def async_step(name: str) -> None:
        order.append(name)

    def sync_step(name: str) -> None:
        order.append(name)

    tasks = BackgroundTasks()
    assert tasks.tasks == []
    tasks.add_task(async_step, "first")
    tasks.add_task(sync_step, name="second")
    tasks.add_task(async_step, name="third")
    assert [type(task) for task in tasks.tasks] == [BackgroundTask] * 3
    await tasks()
    assert order == ["first", "second", "third"]


@pytest.mark.anyio
async def test_background_tasks_accepts_initial_tasks() -> None:
    order: list[int] = []

    async def step(n: int) -> None:
        order.append(n)

    initial = (BackgroundTask(step, 1), BackgroundTask(step, 2))
    tasks = BackgroundTasks(tasks=initial)
    tasks.add_task(step, 3)
    await tasks()
    assert order == [1, 2, 3]
    # The given sequence is copied, not mutated by add_task.
    assert len(initial) == 2
    assert len(tasks.tasks) == 3


@pytest.mark.anyio
async def test_background_tasks_initial_list_is_not_mutated() -> None:
    async def noop() -> None: ...

    initial = [BackgroundTask(noop)]
    tasks = BackgroundTasks(initial)
    tasks.add_task(noop)
    assert len(initial) == 1


@pytest.mark.anyio
async def test_background_tasks_stop_at_the_first_failure() -> None:
    order: list[str] = []

    async def ok(name: str) -> None:
        order.append(name)

    def fail() -> None:
        raise ValueError("second task failed")

    tasks = BackgroundTasks()
    tasks.add_task(ok, "first")
    tasks.add_task(fail)
    tasks.add_task(ok, "third")
    with pytest.raises(ValueError, match="second task failed"):
        await tasks()
    assert order == ["first"]


@pytest.mark.anyio
async def test_empty_background_tasks_do_nothing() -> None:
    tasks = BackgroundTasks(tasks=None)
    await tasks()
    assert tasks.tasks == []


@pytest.mark.anyio
async def test_background_tasks_can_nest() -> None:
    order: list[str] = []

    async def step(name: str) -> None:
        order.append(name)

    inner = BackgroundTasks([BackgroundTask(step, "inner")])
    outer = BackgroundTasks([BackgroundTask(step, "before"), inner, BackgroundTask(step, "after")])
    await outer()
    assert order == ["before", "inner", "after"]


# --- with a response, through the TestClient ------------------------------------------------------


def test_response_runs_its_background_task_after_sending(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    async def log(message: str) -> None:
        events.append(message)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        async def tracking_send(message: Message) -> None:
            events.append(str(message["type"]))
            await send(message)

        response = PlainTextResponse("ok", background=BackgroundTask(log, message="task ran"))
        await response(scope, receive, tracking_send)

    client = test_client_factory(app)
    response = client.get("/")
    assert response.status_code == 200
    assert response.text == "ok"
    assert events == ["http.response.start", "http.response.body", "task ran"]


def test_response_runs_background_tasks_in_order(test_client_factory: TestClientFactory) -> None:
    events: list[str] = []

    async def async_task(name: str) -> None:
        events.append(name)

    def sync_task(name: str) -> None:
        events.append(name)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        tasks = BackgroundTasks()
        tasks.add_task(async_task, "first")
        tasks.add_task(sync_task, name="second")
        response = Response(b"done", media_type="text/plain", background=tasks)
        await response(scope, receive, send)

    client = test_client_factory(app)
    response = client.get("/")
    assert response.text == "done"
    assert events == ["first", "second"]


def test_background_task_error_reaches_the_server(test_client_factory: TestClientFactory) -> None:
    def fail() -> None:
        raise RuntimeError("background failed")

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("sent", background=BackgroundTask(fail))(scope, receive, send)

    client = test_client_factory(app)
    with pytest.raises(RuntimeError, match="background failed"):
        client.get("/")
