using System;

namespace ProcessPool.Engine
{
    /// <summary>What happened to the pool's workers; the story <c>-Verbose</c> tells.</summary>
    public enum PoolEventKind
    {
        /// <summary>A worker process was launched.</summary>
        WorkerStarting,
        /// <summary>A worker finished its handshake and setup.</summary>
        WorkerReady,
        /// <summary>A worker could not start (launch, handshake or setup failed).</summary>
        WorkerStartFailed,
        /// <summary>A worker is being retired (task count, memory ceiling, idle time) and will be replaced on demand.</summary>
        WorkerRecycled,
        /// <summary>A worker died or was killed; its unfinished items are rescheduled.</summary>
        WorkerLost,
        /// <summary>A worker exited cleanly.</summary>
        WorkerExited,
        /// <summary>A line a worker wrote to its stderr (user code's console output lands here).</summary>
        WorkerOutput,
        /// <summary>The pool can no longer start workers, or an engine thread failed.</summary>
        PoolBroken,
        /// <summary>A retiring worker's finalizer failed, or the worker did not exit within the shutdown timeout and was killed.</summary>
        FinalizerFailed,
        /// <summary>A pool broken by a cause that may pass (workers that kept failing to start on their own) tries again for a new map.</summary>
        PoolRecovered,
        /// <summary>A remote host was left out of the pool: its workers could not start (the message names the host and ssh's reason).</summary>
        HostFailed,
        /// <summary>A host left out of the pool is tried again, for a new map.</summary>
        HostRetried,
    }

    /// <summary>One event in a pool's life.</summary>
    public sealed class PoolEvent
    {
        internal PoolEvent(PoolEventKind kind, int workerId, int processId, string message)
        {
            Kind = kind;
            WorkerId = workerId;
            ProcessId = processId;
            Message = message;
            TimeUtc = DateTime.UtcNow;
        }

        /// <summary>What happened.</summary>
        public PoolEventKind Kind { get; }
        /// <summary>The worker concerned (0 for the pool).</summary>
        public int WorkerId { get; }
        /// <summary>Its process id, when it has one.</summary>
        public int ProcessId { get; }
        /// <summary>A sentence for humans.</summary>
        public string Message { get; }
        /// <summary>When it happened.</summary>
        public DateTime TimeUtc { get; }

        /// <inheritdoc />
        public override string ToString() => Message;
    }
}
