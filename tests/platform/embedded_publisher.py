"""A TrackRev process publishing a burst on the embedded queue, as a web process or beat does:
`python -m tests.platform.embedded_publisher PUBLISHER COUNT`, in the environment of workers.embedded_env.
Once loaded it says "ready"; a line on stdin starts it: COUNT `tests.record` messages, sent one by one."""

import sys

import trackrev.embedded_broker  # noqa: F401  (imported now: all publishers reach the file together)
from trackrev.celery import app


def main(publisher: int, count: int) -> None:
    assert app.conf.broker_transport == "trackrev.embedded_broker:Transport"
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(count):
        app.send_task("tests.record", args=[publisher, n])


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
