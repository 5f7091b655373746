using System;
using System.Collections.Generic;

namespace ProcessPool.Engine.Worker
{
    /// <summary>
    /// The runtime settings a worker starts with (<see cref="WorkerLaunch.RuntimeSettings"/>): the parent adds them
    /// to the child's environment and names them in <see cref="Variable"/>; the worker's runtime reads them at
    /// start-up, and the worker then removes them, so they tune the worker alone, not what its items start.
    /// </summary>
    internal static class RuntimeSettings
    {
        /// <summary>Names the variables the engine added (separated by ';'); the worker removes them and this one.</summary>
        public const string Variable = "PROCESSPOOL_RUNTIME_SETTINGS";

        /// <summary>
        /// Parent side: adds <paramref name="launch"/>'s settings that neither the parent's environment (under the
        /// <c>DOTNET_</c> name or the older <c>COMPlus_</c> one) nor the launch's own sets.
        /// </summary>
        public static void Apply(WorkerLaunch launch, IDictionary<string, string?> environment)
        {
            if (launch.HostName != null) return; // an ssh child: the settings would tune ssh, not the remote worker
            var added = new List<string>();
            foreach (var pair in launch.RuntimeSettings)
            {
                if (launch.Environment.ContainsKey(pair.Key) || IsSet(pair.Key)) continue;
                environment[pair.Key] = pair.Value;
                added.Add(pair.Key);
            }
            if (added.Count > 0) environment[Variable] = string.Join(";", added);
        }

        private static bool IsSet(string name) =>
            !string.IsNullOrEmpty(System.Environment.GetEnvironmentVariable(name)) ||
            (name.StartsWith(DotnetPrefix, StringComparison.Ordinal) &&
             !string.IsNullOrEmpty(System.Environment.GetEnvironmentVariable("COMPlus_" + name.Substring(DotnetPrefix.Length))));

        private const string DotnetPrefix = "DOTNET_";

        /// <summary>Worker side, first thing: removes the variables the engine added (the runtime has read them by now).</summary>
        public static void Forget()
        {
            string? names = System.Environment.GetEnvironmentVariable(Variable);
            if (names == null) return;
            foreach (string name in names.Split(new[] { ';' }, StringSplitOptions.RemoveEmptyEntries))
                System.Environment.SetEnvironmentVariable(name, null);
            System.Environment.SetEnvironmentVariable(Variable, null);
        }
    }
}
