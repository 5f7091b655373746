using System;
using System.Collections.Generic;
using ProcessPool.Commands.Worker;
using ProcessPool.Engine;
using ProcessPool.Engine.Methods;
using ProcessPool.Engine.Worker;

namespace ProcessPool.Commands
{
    /// <summary>Engine options for the module's pools: workers are the caller's own PowerShell (see <see cref="PowerShellLocator"/>) running <see cref="ScriptWorkerHost"/>.</summary>
    internal static class PoolFactory
    {
        /// <summary>
        /// The default pool lets idle workers go after ten minutes: long enough that the next command at an
        /// interactive prompt finds them warm, short enough that a session does not hold a PowerShell per core for long.
        /// A new worker costs a PowerShell start and then runs its first few thousand items with code the runtime is
        /// still compiling (the one-liner over 2,000 files: about 2.8 times the steady CPU in its first run); an idle
        /// warm worker holds about 55 MB of private memory (RSS about 145 MB, the rest shared with the caller).
        /// </summary>
        public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromMinutes(10);

        /// <summary>A default pool's options: no setup, idle workers released after <see cref="DefaultIdleTimeout"/>.</summary>
        public static PoolOptions DefaultOptions(string name, int size)
        {
            var options = Options(name, size, new ScriptSetup(), null);
            options.IdleTimeout = DefaultIdleTimeout;
            return options;
        }

        /// <summary>For tests only (set through reflection): a lower frame limit for pools created from now on, so limits can be tested without 256 MiB values.</summary>
        internal static int? MaxFrameBytesOverride { get; set; }

        /// <summary>Options for a pool; every worker opens its script runspace at start (so the pool is warm) and runs the method initializer when one is given.</summary>
        public static PoolOptions Options(string name, int size, ScriptSetup script, MethodSetup? method) =>
            Options(name, size, script, method, null);

        /// <summary>Options for a pool of <paramref name="size"/> local workers (none when 0) and the <paramref name="remote"/> hosts' workers.</summary>
        public static PoolOptions Options(string name, int size, ScriptSetup script, MethodSetup? method, IReadOnlyList<WorkerGroup>? remote)
        {
            PoolOptions options;
            if (remote == null || remote.Count == 0) options = new PoolOptions(Launch()) { Name = name, Size = size };
            else
            {
                var groups = new List<WorkerGroup>();
                if (size > 0) groups.Add(new WorkerGroup(Launch(), size));
                groups.AddRange(remote);
                options = new PoolOptions(groups) { Name = name };
            }
            if (MaxFrameBytesOverride is int limit) options.MaxFrameBytes = limit;
            options.RunnerSetup[ScriptWorkerHost.ScriptKind] = script.Encode();
            if (method != null) options.RunnerSetup[WorkerMain.MethodKind] = method.Encode();
            return options;
        }

        public static WorkerLaunch Launch() => ScriptWorkerHost.Launch(PowerShellLocator.Find(), typeof(PoolFactory).Assembly.Location);
    }
}
