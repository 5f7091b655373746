using System;
using System.Collections.Generic;
using System.ComponentModel;
using System.Text;
using ProcessPool.Engine;
using ProcessPool.Engine.Methods;
using ProcessPool.Engine.Worker;

namespace ProcessPool.Commands.Worker
{
    /// <summary>
    /// Entry point of a PowerShell worker process: the pool starts the caller's own PowerShell executable with
    /// <c>-NoProfile -NonInteractive</c> and a command that imports this assembly and calls <see cref="Run"/>, which
    /// claims stdio for the protocol and serves script blocks and static methods until the pool shuts it down.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public static class ScriptWorkerHost
    {
        /// <summary>Payload kind of script blocks.</summary>
        public const string ScriptKind = "script";

        /// <summary>Runs the worker loop; returns the process exit code.</summary>

        public static int Run() => WorkerMain.Run(new Dictionary<string, Func<IPayloadRunner>>
        {
            [ScriptKind] = () => new ScriptRunner(),
            [WorkerMain.MethodKind] = () => new MethodRunner(),
        });

        /// <summary>How to start a worker: <paramref name="powerShell"/> (pwsh or powershell.exe, with any arguments it needs first) loading <paramref name="moduleAssembly"/>.</summary>
        internal static WorkerLaunch Launch(WorkerLaunch powerShell, string moduleAssembly)
        {
            string command = $"Import-Module -Name '{moduleAssembly.Replace("'", "''")}'; exit [{typeof(ScriptWorkerHost).FullName}]::Run()";
            var launch = new WorkerLaunch(powerShell.FileName, powerShell.Arguments);
            foreach (string argument in new[] { "-NoProfile", "-NonInteractive", "-NoLogo", "-EncodedCommand", Convert.ToBase64String(Encoding.Unicode.GetBytes(command)) })
                launch.Arguments.Add(argument);
            return launch;
        }
    }
}
