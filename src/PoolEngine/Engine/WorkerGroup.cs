using System;
using System.Collections.Generic;

namespace ProcessPool.Engine
{
    /// <summary>
    /// Workers started the same way: the local workers of a pool, or the workers of one remote host. A pool keeps each
    /// group at its size; a remote group whose workers keep failing to start is given up (its work runs on the other
    /// groups) and the pool breaks only when no group is left.
    /// </summary>
    public sealed class WorkerGroup
    {
        /// <summary>Creates a group of <paramref name="size"/> workers started by <paramref name="launch"/>.</summary>
        public WorkerGroup(WorkerLaunch launch, int size)
        {
            Launch = launch ?? throw new ArgumentNullException(nameof(launch));
            if (size < 1) throw new ArgumentOutOfRangeException(nameof(size), size, "A group needs at least one worker.");
            Size = size;
        }

        /// <summary>
        /// Creates a group sized by its host: one worker starts, and when it says hello (which reports the host's
        /// processor count) the group grows to that many workers, capped at <see cref="MaxHostSize"/>.
        /// </summary>
        public static WorkerGroup SizedByHost(WorkerLaunch launch) => new WorkerGroup(launch, 1) { SizedByHostPending = true, IsSizedByHost = true };

        /// <summary>Largest group a host's processor count makes (the cmdlet's <c>-WorkersPerHost</c> range).</summary>
        public const int MaxHostSize = 1024;

        /// <summary>How each worker of the group is started.</summary>
        public WorkerLaunch Launch { get; }

        /// <summary>Number of workers the pool keeps in this group; for a group sized by its host, 1 until the host's first hello. Changed under the pool's lock.</summary>
        public int Size { get; internal set; }

        /// <summary>True when the group takes its size from its host's processor count (<see cref="SizedByHost"/>).</summary>
        public bool IsSizedByHost { get; private set; }

        /// <summary>The processor count the group's host reported in its workers' hello, or 0 before one said hello.</summary>
        public int ProcessorCount { get; internal set; }

        /// <summary>Sized by its host and no hello yet: the first one sets <see cref="Size"/>. Guarded by the pool's lock.</summary>
        internal bool SizedByHostPending { get; set; }

        /// <summary>The host's name, or <c>localhost</c> for local workers.</summary>
        public string HostName => Launch.HostName ?? LocalHostName;

        /// <summary>What <see cref="HostName"/> says for workers on this machine.</summary>
        public const string LocalHostName = "localhost";

        internal bool IsRemote => Launch.HostName != null;

        // Scheduling state, guarded by the pool's lock.
        internal int ConsecutiveStartFailures { get; set; }
        internal bool Down { get; set; }
        internal string? LastError { get; set; }
        internal long ItemsCompleted { get; set; }
        internal long WorkersLost { get; set; }
    }

    /// <summary>What one host of a pool is doing: its workers, work done, failures and whether the pool still uses it.</summary>
    public sealed class HostStats
    {
        internal HostStats(string hostName, int size, int starting, int busy, int idle, long itemsCompleted, long workersLost, string state, string? lastError, int processorCount)
        {
            ProcessorCount = processorCount;
            HostName = hostName;
            Size = size;
            Starting = starting;
            Busy = busy;
            Idle = idle;
            ItemsCompleted = itemsCompleted;
            WorkersLost = workersLost;
            State = state;
            LastError = lastError;
        }

        /// <summary>The host (<c>localhost</c> for local workers).</summary>
        public string HostName { get; }
        /// <summary>Workers the pool keeps on it (a host sized by its processor count: that count, once a worker said hello).</summary>
        public int Size { get; }
        /// <summary>The processor count the host reported at handshake, or 0 before a worker said hello.</summary>
        public int ProcessorCount { get; }
        /// <summary>Workers launched and not yet ready.</summary>
        public int Starting { get; }
        /// <summary>Ready workers with work.</summary>
        public int Busy { get; }
        /// <summary>Ready workers without work.</summary>
        public int Idle { get; }
        /// <summary>Items its workers completed.</summary>
        public long ItemsCompleted { get; }
        /// <summary>Its workers that died or were killed.</summary>
        public long WorkersLost { get; }
        /// <summary>Up (a worker is ready), Starting, Failed (given up: see <see cref="LastError"/>) or Idle (no worker now; started on demand).</summary>
        public string State { get; }
        /// <summary>Why its last worker start failed, or null.</summary>
        public string? LastError { get; }

        /// <inheritdoc />
        public override string ToString() => $"{HostName}: {State}";
    }
}
