using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading.Tasks;
using ProcessPool.Engine;

namespace ProcessPool.Commands
{
    /// <summary>
    /// The process's pools by name, and the default pools. Process-wide, like the worker processes themselves: every
    /// runspace in the process sees the same pools, and removing the module shuts them all down.
    /// Thread-safe: cmdlets in several runspaces may use it at once. The lock guards the dictionary only; nothing
    /// slow (starting or disposing a pool) ever runs under it, so one runspace cannot stall the others.
    /// </summary>
    internal static class PoolRegistry
    {
        /// <summary>The default pool: one worker per processor, what <c>Invoke-PoolMap</c> uses without <c>-Pool</c>.</summary>
        public const string DefaultName = "Default";

        private static readonly object Gate = new object();
        private static readonly Dictionary<string, ProcessPoolHandle> Pools = new Dictionary<string, ProcessPoolHandle>(StringComparer.OrdinalIgnoreCase);
        private static int _unnamed;

        /// <summary>
        /// The name of the default pool with <paramref name="size"/> workers: <c>Default</c> for one worker per
        /// processor, <c>Default-4</c> for the four-worker pool that <c>Invoke-PoolMap -ThrottleLimit 4</c> uses.
        /// </summary>
        public static string DefaultNameFor(int size) =>
            size == Environment.ProcessorCount ? DefaultName : DefaultName + "-" + size.ToString(CultureInfo.InvariantCulture);

        /// <summary>True for the names the default pools use (<c>Default</c>, <c>Default-</c><i>n</i>), which New-ProcessPool refuses.</summary>
        public static bool IsReservedName(string name)
        {
            if (name.Equals(DefaultName, StringComparison.OrdinalIgnoreCase)) return true;
            string prefix = DefaultName + "-";
            return name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && name.Length > prefix.Length && name.Skip(prefix.Length).All(c => c >= '0' && c <= '9');
        }

        /// <summary>The size a default pool's name stands for: the processor count for <c>Default</c>, <i>n</i> for <c>Default-</c><i>n</i>.</summary>
        public static bool TryParseDefaultName(string name, out int size)
        {
            size = 0;
            if (name.Equals(DefaultName, StringComparison.OrdinalIgnoreCase))
            {
                size = Environment.ProcessorCount;
                return true;
            }
            return IsReservedName(name)
                && int.TryParse(name.Substring(DefaultName.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out size)
                && size >= 1 && size <= MaxDefaultSize;
        }

        /// <summary>Largest default pool <c>-ThrottleLimit</c> may ask for (New-ProcessPool's own bound on -Size).</summary>
        public const int MaxDefaultSize = 1024;

        /// <summary>Registers a new pool under its name; false when a live pool already has it.</summary>
        public static bool TryRegister(ProcessPoolHandle handle)
        {
            lock (Gate)
            {
                if (Pools.TryGetValue(handle.Name, out var existing) && IsLive(existing)) return false;
                Pools[handle.Name] = handle;
                return true;
            }
        }

        /// <summary>True when the name is free (or held by a pool that is already shut down).</summary>
        public static bool IsNameFree(string name)
        {
            lock (Gate) return !Pools.TryGetValue(name, out var existing) || !IsLive(existing);
        }

        /// <summary>A fresh name for a pool created without one: pool1, pool2, ...</summary>
        public static string NextName()
        {
            lock (Gate)
            {
                while (true)
                {
                    string name = "pool" + (++_unnamed);
                    if (!Pools.ContainsKey(name)) return name;
                }
            }
        }

        public static ProcessPoolHandle? Find(string name)
        {
            lock (Gate) return Pools.TryGetValue(name, out var handle) ? handle : null;
        }

        public static List<ProcessPoolHandle> All()
        {
            lock (Gate) return Pools.Values.OrderBy(p => p.IsDefault ? 0 : 1).ThenBy(p => p.Name, StringComparer.OrdinalIgnoreCase).ToList();
        }

        public static void Unregister(ProcessPoolHandle handle)
        {
            lock (Gate)
                if (Pools.TryGetValue(handle.Name, out var current) && ReferenceEquals(current, handle)) Pools.Remove(handle.Name);
        }

        /// <summary>
        /// The default pool with <paramref name="size"/> workers (one per processor when null), created on first use;
        /// idle workers leave after <see cref="PoolFactory.DefaultIdleTimeout"/> and are restarted lazily. A default
        /// pool that broke or was closed is replaced. The names are reserved (<see cref="IsReservedName"/>), so the
        /// pool found under one is always a default pool, never one a user made.
        /// </summary>
        public static ProcessPoolHandle GetOrCreateDefault(int? size = null)
        {
            int workers = size ?? Environment.ProcessorCount;
            string name = DefaultNameFor(workers);
            lock (Gate)
                if (Pools.TryGetValue(name, out var running) && running.Pool.State == PoolState.Running) return running;

            // Started outside the lock: the engine launches the workers in its constructor.
            var created = new ProcessPoolHandle(new WorkerPool(PoolFactory.DefaultOptions(name, workers)), isDefault: true);
            ProcessPoolHandle? stale = null;
            ProcessPoolHandle winner;
            lock (Gate)
            {
                if (Pools.TryGetValue(name, out var existing) && existing.Pool.State == PoolState.Running)
                {
                    winner = existing; // another runspace got there first
                }
                else
                {
                    stale = existing;
                    Pools[name] = created;
                    winner = created;
                }
            }
            // Disposing waits for workers to exit: never under the lock.
            if (!ReferenceEquals(winner, created)) created.Pool.Dispose();
            stale?.Pool.Dispose();
            return winner;
        }

        /// <summary>Shuts every pool down (the module is being removed): running maps stop, workers get their grace period, all at once.</summary>
        public static void ShutDownAll()
        {
            List<ProcessPoolHandle> pools;
            lock (Gate)
            {
                pools = Pools.Values.ToList();
                Pools.Clear();
            }
            Task.WaitAll(pools.Select(p => Task.Run(() => p.Pool.Dispose())).ToArray());
        }

        private static bool IsLive(ProcessPoolHandle handle)
        {
            var state = handle.Pool.State;
            return state == PoolState.Running || state == PoolState.Closing;
        }
    }
}
