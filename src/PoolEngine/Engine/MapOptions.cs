using System;

namespace ProcessPool.Engine
{
    /// <summary>Settings of one map: the payload every worker runs, and how items are chunked, ordered, timed and retried.</summary>
    public sealed class MapOptions
    {
        /// <summary>Creates options for a payload of <paramref name="payloadKind"/> defined by <paramref name="payloadDefinition"/>.</summary>
        public MapOptions(string payloadKind, byte[] payloadDefinition)
        {
            PayloadKind = payloadKind;
            PayloadDefinition = payloadDefinition;
        }

        /// <summary>Which runner in the worker runs this map ("method", "script").</summary>
        public string PayloadKind { get; }

        /// <summary>The runner's opaque definition of the work (method name, script text).</summary>
        public byte[] PayloadDefinition { get; }

        /// <summary>Files the payload names by path (a method's assembly) that remote workers receive over their channel before the map's definition; local workers read the paths themselves.</summary>
        public System.Collections.Generic.IList<ShippedFile> Files { get; } = new System.Collections.Generic.List<ShippedFile>();

        /// <summary>Results in input order (default) or as they complete.</summary>
        public bool Ordered { get; set; } = true;

        /// <summary>Items per chunk; null chooses adaptively (see <see cref="TargetChunkDuration"/>).</summary>
        public int? ChunkSize { get; set; }

        /// <summary>Adaptive chunks grow toward this much work each: long enough to hide the per-chunk round trip, short enough that results stream and the tail stays balanced.</summary>
        public TimeSpan TargetChunkDuration { get; set; } = TimeSpan.FromMilliseconds(50);

        /// <summary>The number of items, when the caller knows it: adaptive chunking then keeps about four chunks per worker (multiprocessing's rule) and progress can show an ETA.</summary>
        public long? ExpectedCount { get; set; }

        /// <summary>Longest one item may run; past it the worker is killed and replaced and the item fails. Null for no limit.</summary>
        public TimeSpan? ItemTimeout { get; set; }

        /// <summary>Longest the whole map may run; past it the map is stopped and fails with <see cref="PoolTimeoutException"/>.</summary>
        public TimeSpan? RunTimeout { get; set; }

        /// <summary>How many times a failed item (error or timeout) is run again before its failure is reported.</summary>
        public int RetryCount { get; set; }

        /// <summary>Crashes an item may cause before it is declared poison; the second run is always alone, so an innocent neighbour is never blamed.</summary>
        public int MaxCrashesPerItem { get; set; } = 2;

        /// <summary>
        /// Times an item's worker may be ended by a signal that usually comes from outside (SIGKILL, SIGTERM, SIGINT,
        /// SIGHUP, SIGQUIT, not sent by the pool) while it runs the item alone, before the item is declared poison.
        /// Such a signal may be a user's kill or the OOM killer as well as the item's own doing, so it takes repeats;
        /// an exit code or a crash signal (SIGSEGV, SIGABRT…) counts under <see cref="MaxCrashesPerItem"/> instead.
        /// </summary>
        public int MaxKillsPerItem { get; set; } = 3;

        /// <summary>Bound on items submitted but not yet taken by the consumer (the reorder buffer included); null derives it from workers × chunk size.</summary>
        public int? MaxItemsInFlight { get; set; }

        /// <summary>
        /// Deliver the records of an item that is still running as they arrive (<see cref="ItemResult.IsPartial"/>
        /// results), before its final result, in the map's order: what <c>ForEach-Object -Parallel</c> does. Off, an
        /// item's records come together in its one result. Either way a worker sends the records of an item that runs
        /// longer than a few tens of ms while it runs.
        /// </summary>
        public bool StreamRecords { get; set; }

        /// <summary>
        /// Bound on the bytes of streamed records the map holds for running items and the consumer has not taken. Past
        /// it, a worker whose records must wait for an earlier item is not read (it then blocks on its output) until
        /// the consumer takes records or the earlier item ends. Records the consumer can take now, or an item no other
        /// worker is running ahead of, are never held back (that would deadlock), so the bound can be passed by what
        /// one frame brings. Default 16 MiB.
        /// </summary>
        public long MaxHeldRecordBytes { get; set; } = 16 * 1024 * 1024;

        /// <summary>Called on an engine thread after each chunk, for a job log; must be quick and thread-safe.</summary>
        public Action<ChunkRecord>? ChunkCompleted { get; set; }

        internal void Validate()
        {
            if (ChunkSize is int size && size < 1) throw new ArgumentOutOfRangeException(nameof(ChunkSize), size, "A chunk holds at least one item.");
            if (MaxHeldRecordBytes < 1) throw new ArgumentOutOfRangeException(nameof(MaxHeldRecordBytes));
            if (RetryCount < 0) throw new ArgumentOutOfRangeException(nameof(RetryCount));
            if (MaxCrashesPerItem < 1) throw new ArgumentOutOfRangeException(nameof(MaxCrashesPerItem));
            if (MaxKillsPerItem < 1) throw new ArgumentOutOfRangeException(nameof(MaxKillsPerItem));
            if (ItemTimeout is TimeSpan t && t <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(ItemTimeout));
            if (RunTimeout is TimeSpan r && r <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(RunTimeout));
        }
    }
}
