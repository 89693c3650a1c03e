"""What the subscriber scripts share: the modules protoc generated from Protos/ (in the
directory given as the first argument) on the import path, and a SUB socket on the broker."""
import sys

sys.path.insert(0, sys.argv[1])
import zmq  # noqa: E402


def subscribe(prefix):
    """A SUB socket on the endpoint given as the second argument, subscribed to `prefix`;
    prints 'ready' for the test that waits for it."""
    ctx = zmq.Context()
    sub = ctx.socket(zmq.SUB)
    sub.setsockopt(zmq.SUBSCRIBE, prefix)
    sub.connect(sys.argv[2])
    print("ready", flush=True)
    return ctx, sub
