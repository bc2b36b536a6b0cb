"""Runs the rsdetect program for an algorithm: finds it, passes
`--progress json`, turns its events into QGIS's progress bar and log, and
stops it on cancel as Ctrl-C does (the raster in hand is finished, what is
done is kept, and the same run resumes)."""

import json
import os
import queue
import shutil
import signal
import subprocess
import threading

from qgis.core import QgsProcessingException

#: Processing's setting: the rsdetect program's path.
SETTING = "RSDETECT_BINARY"
#: The same, from the environment (for qgis_process and tests).
ENV = "RSDETECT_BINARY"

NOT_FOUND = (
    "rsdetect program not found: install rsdetect (`make build` in its folder gives target/release/rsdetect) "
    "and put it on PATH, or set its path in Processing > Options > Providers > rsdetect "
    "(or the RSDETECT_BINARY environment variable)"
)


def binary():
    """The rsdetect program: the environment's, Processing's setting, else on PATH."""
    from processing.core.ProcessingConfig import ProcessingConfig

    for given in (os.environ.get(ENV), ProcessingConfig.getSetting(SETTING)):
        if given:
            if os.path.isfile(given) and os.access(given, os.X_OK):
                return given
            raise QgsProcessingException(f"{given}: not an rsdetect program that can run. {NOT_FOUND}")
    found = shutil.which("rsdetect")
    if found is None:
        raise QgsProcessingException(NOT_FOUND)
    return found


def shipped_models():
    """The names `rsdetect models --json` lists (["default"] when it cannot be asked)."""
    try:
        out = subprocess.run([binary(), "models", "--json"], capture_output=True, text=True, timeout=30)
        names = [m["name"] for m in json.loads(out.stdout)]
    except (QgsProcessingException, OSError, ValueError, KeyError, subprocess.SubprocessError):
        names = []
    return names or ["default"]


class Cancelled(Exception):
    """The user cancelled; what the program finished is kept."""


def run(args, feedback, progress_from=0.0, progress_to=100.0):
    """Runs `rsdetect ARGS --progress json`, telling `feedback` its progress,
    warnings and errors. Returns (exit code, stdout). Raises Cancelled when
    the user cancelled, QgsProcessingException when it failed outright."""
    command = [binary(), "--progress", "json", *[str(a) for a in args]]
    feedback.pushCommandInfo(" ".join(command))
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
    lines = queue.Queue()

    def pump():
        for line in child.stderr:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    stdout = []
    readers = [threading.Thread(target=pump), threading.Thread(target=lambda: stdout.append(child.stdout.read()))]
    for reader in readers:
        reader.start()
    fatal, interrupted = None, False
    while True:
        if feedback.isCanceled() and not interrupted:
            # As Ctrl-C: the program finishes the batch in hand and keeps what is done.
            child.send_signal(signal.SIGINT)
            interrupted = True
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            continue
        if line is None:
            break
        fatal = tell(line, feedback, progress_from, progress_to) or fatal
    code = child.wait()
    for reader in readers:
        reader.join()
    child.stdout.close()
    child.stderr.close()
    if interrupted or code == 130:
        raise Cancelled()
    if fatal is not None:
        raise QgsProcessingException(fatal)
    return code, "".join(stdout)


def tell(line, feedback, progress_from, progress_to):
    """One line of the program's stderr to `feedback`; returns the message of
    an error that ended the program."""
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict) or "event" not in event:
        # A line of the program's own log (WARN ..., notes).
        text = line.strip()
        if text.startswith("WARN"):
            feedback.pushWarning(text[4:].strip())
        elif text.startswith("error:"):
            # The program's own refusal of its arguments, before any work.
            feedback.reportError(text, fatalError=True)
            return text
        elif text:
            feedback.pushInfo(text)
        return None
    kind = event["event"]
    if kind == "progress":
        feedback.setProgress(progress_from + (progress_to - progress_from) * float(event["fraction"]))
        if event.get("what"):
            feedback.setProgressText(event["what"])
    elif kind == "warning":
        feedback.pushWarning(event["message"])
    elif kind == "error":
        feedback.reportError(event["message"], fatalError=bool(event.get("fatal")))
        if event.get("fatal"):
            return event["message"]
    elif kind == "info":
        feedback.pushInfo(event["message"])
    return None
