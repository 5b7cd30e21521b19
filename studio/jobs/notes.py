"""What a job's card says when the engine waits on it, or stops: plain sentences."""

RESUBMIT_NEVER = (
    "The studio stopped while sending this request, so it cannot tell whether FoxAPI "
    "received it (and billed it). It was not sent again."
)
KEY_REFUSED = "FoxAPI refused the key this job was sent with. Enter a valid key to resume."
UPSTREAM_TROUBLE = "FoxAPI is not answering right now; the studio keeps checking."
RESULTS_EXPIRED = "FoxAPI's download links expired before the studio could save the images."
JOB_EXPIRED = (
    "FoxAPI keeps results for 24 hours and this job's are older, so they can no longer be fetched."
)
DISK_FULL = "The studio's disk is full: nothing was lost; free space and it will finish."
STORAGE_UNWRITABLE = (
    "The studio cannot save images where it keeps them right now: nothing was lost; "
    "it will finish once it can."
)
INTERNAL_PROBLEM = (
    "The studio ran into an internal problem with this job and stopped trying. "
    "The server log says more."
)
