using System;
using System.Collections.Generic;
using ProcessPool.Engine.Methods;

namespace ProcessPool.Engine.Worker
{
    /// <summary>Entry point of a worker process: claims stdio for the protocol and runs the worker loop with the given payload runners.</summary>
    public static class WorkerMain
    {
        /// <summary>Payload kind of static .NET methods.</summary>
        public const string MethodKind = MethodPayload.Kind;

        /// <summary>
        /// Runs the worker loop until the parent shuts it down or disappears; returns the process exit code. The worker
        /// first takes ownership of its process tree (<see cref="WorkerTree"/>), so whatever items start ends with it.
        /// <paramref name="exit"/> ends the process when the parent is gone (by default <see cref="Environment.Exit(int)"/>).
        /// </summary>
        public static int Run(IReadOnlyDictionary<string, Func<IPayloadRunner>> runners, Action<int>? exit = null)
        {
            RuntimeSettings.Forget();
            WorkerTree.Own();
            var (input, output) = StdioGuard.Claim();
            int code = new WorkerLoop(input, output, runners, exit).Run();
            WorkerTree.KillDescendants();
            return code;
        }

        /// <summary>Runs a worker that serves static .NET methods only (the plain .NET host).</summary>
        public static int RunMethodWorker() =>
            Run(new Dictionary<string, Func<IPayloadRunner>> { [MethodKind] = () => new MethodRunner() });
    }
}
