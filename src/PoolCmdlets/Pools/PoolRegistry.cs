using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading.Tasks;
using ProcessPool.Engine;

namespace ProcessPool.Commands
{
    /// <summary>
    /// The process's pools by name, and the default pool. Process-wide, like the worker processes themselves: every
    /// runspace in the process sees the same pools, and removing the module shuts them all down.
    /// Thread-safe: cmdlets in several runspaces may use it at once.
    /// </summary>
    internal static class PoolRegistry
    {
        public const string DefaultName = "Default";

        private static readonly object Gate = new object();
        private static readonly Dictionary<string, ProcessPoolHandle> Pools = new Dictionary<string, ProcessPoolHandle>(StringComparer.OrdinalIgnoreCase);
        private static int _unnamed;

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
        /// The default pool, created on first use (one worker per processor, idle workers released after
        /// <see cref="PoolFactory.DefaultIdleTimeout"/> and restarted lazily). A default pool that broke or was removed
        /// is replaced by a new one.
        /// </summary>
        public static ProcessPoolHandle GetOrCreateDefault()
        {
            lock (Gate)
            {
                if (Pools.TryGetValue(DefaultName, out var existing) && existing.IsDefault && existing.Pool.State == PoolState.Running) return existing;
                existing?.Pool.Dispose();
                var handle = new ProcessPoolHandle(new WorkerPool(PoolFactory.DefaultOptions()), isDefault: true);
                Pools[DefaultName] = handle;
                return handle;
            }
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
