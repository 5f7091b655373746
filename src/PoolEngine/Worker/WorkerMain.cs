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

        /// <summary>Runs the worker loop until the parent shuts it down or disappears; returns the process exit code.</summary>
        public static int Run(IReadOnlyDictionary<string, Func<IPayloadRunner>> runners)
        {
            var (input, output) = StdioGuard.Claim();
            return new WorkerLoop(input, output, runners).Run();
        }

        /// <summary>Runs a worker that serves static .NET methods only (the plain .NET host).</summary>
        public static int RunMethodWorker() =>
            Run(new Dictionary<string, Func<IPayloadRunner>> { [MethodKind] = () => new MethodRunner() });
    }
}
