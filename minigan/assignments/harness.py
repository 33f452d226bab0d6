"""The student's side: answer the grader's requests with the copy's minigan (not for direct use).

    python -I -S harness.py COPY SITE

grade.py starts this inside the sandbox (sandbox.py), with a copy of this file, probes.py
and wire.py beside it. ``sys.path`` is set here to hold only the student's copy (COPY), a
folder of the packages the probes may use (SITE: NumPy, array-api-strict) and the standard
library. Then it loops: read a request from stdin, run the probe it names, send back the
raw result, or the exception the student's code raised. stdout is the grader's channel;
anything the student's code prints goes to stderr.
"""
import os
import sys
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))


def where_in(root: str, error: BaseException) -> str:
    """" (at minigan/ops/arithmetic.py:73 in backward)": the last place in the copy the error passed."""
    frames = [f for f in traceback.extract_tb(error.__traceback__)
              if os.path.abspath(f.filename).startswith(root + os.sep)]
    if not frames:
        return ""
    frame = frames[-1]
    return f" (at {os.path.relpath(frame.filename, root)}:{frame.lineno} in {frame.name})"


def describe(root: str, error: BaseException) -> dict:
    text = str(error).splitlines()[0] if str(error).strip() else ""
    info = {"type": type(error).__name__, "message": text, "where": where_in(root, error)}
    if isinstance(error, OSError) and isinstance(error.errno, int):
        info["errno"] = error.errno  # EFBIG: the file-size limit; EAGAIN from fork: the process limit
    return {"error": info}


def main(copy: str, site: str) -> int:
    channel_in = os.fdopen(os.dup(0), "rb")
    channel_out = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)  # print() in the student's code lands in the stderr log, not on the channel
    sys.path[:0] = [HERE, copy, site]  # HERE first: a wire.py or probes.py in the copy cannot stand in
    import wire  # noqa: E402  (after the path is set)
    from probes import PROBES  # noqa: E402

    try:
        import minigan
        hello = {"ready": True, "minigan": os.path.abspath(minigan.__file__)}
    except BaseException as error:  # a syntax error in the copy, or worse
        hello = describe(copy, error)
        hello["error"]["stage"] = "import"
    wire.write_frame(channel_out, hello)
    while "error" not in hello:
        try:
            request = wire.read_frame(channel_in)
        except EOFError:
            return 0
        try:
            reply = {"result": PROBES[request["probe"]](**request["args"])}
        except BaseException as error:  # the student's code raised: say what, and where
            reply = describe(copy, error)
        wire.write_frame(channel_out, reply)
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
