using System;
using System.Collections.Generic;

namespace ProcessPool.Engine
{
    /// <summary>
    /// What one input item produced, delivered exactly once: its records in the order emitted, or its failure, and
    /// where and how it ran. A map that streams delivers a running item's records in partial results first.
    /// </summary>
    public sealed class ItemResult
    {
        internal ItemResult(long sequence, object? tag, IReadOnlyList<OutputRecord> records, Exception? error,
            int workerId, int processId, DateTime startedUtc, TimeSpan duration, int attempts, string? hostName = null, bool isPartial = false)
        {
            IsPartial = isPartial;
            HostName = hostName ?? WorkerGroup.LocalHostName;
            Sequence = sequence;
            Tag = tag;
            Records = records;
            Error = error;
            WorkerId = workerId;
            ProcessId = processId;
            StartedUtc = startedUtc;
            Duration = duration;
            Attempts = attempts;
        }

        /// <summary>
        /// True for records of an item still running, delivered early because the map streams
        /// (<see cref="MapOptions.StreamRecords"/>); only <see cref="Sequence"/>, <see cref="Tag"/> and
        /// <see cref="Records"/> are set. The item's final result (IsPartial false) follows with the records not yet
        /// delivered and its error, if any.
        /// </summary>
        public bool IsPartial { get; }

        /// <summary>Position of the item in the input, from 0.</summary>
        public long Sequence { get; }

        /// <summary>The caller's object submitted with the item (for PowerShell, the input object, the target of its errors).</summary>
        public object? Tag { get; }

        /// <summary>Everything the item emitted, outputs and stream records, in order.</summary>
        public IReadOnlyList<OutputRecord> Records { get; }

        /// <summary>Why the item failed, or null when it succeeded: <see cref="RemoteItemException"/>, <see cref="ItemTimeoutException"/> or <see cref="WorkerTerminatedException"/>.</summary>
        public Exception? Error { get; }

        /// <summary>True when the item completed without error.</summary>
        public bool Succeeded => Error == null;

        /// <summary>Pool-local id of the worker that produced this result (0 when none did).</summary>
        public int WorkerId { get; }

        /// <summary>Process id of that worker (0 when none did).</summary>
        public int ProcessId { get; }

        /// <summary>Where that worker ran: <c>localhost</c>, or the remote host as the pool names it.</summary>
        public string HostName { get; }

        /// <summary>When the final attempt started.</summary>
        public DateTime StartedUtc { get; }

        /// <summary>How long the final attempt ran.</summary>
        public TimeSpan Duration { get; }

        /// <summary>How many times the item was run (retries and crash re-runs included).</summary>
        public int Attempts { get; }

        /// <summary>The data of the <see cref="RecordKind.Output"/> records.</summary>
        public IEnumerable<byte[]> Outputs
        {
            get
            {
                foreach (var record in Records)
                    if (record.Kind == RecordKind.Output) yield return record.Data;
            }
        }
    }
}
