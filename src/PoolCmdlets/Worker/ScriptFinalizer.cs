using System.Management.Automation;
using System.Management.Automation.Runspaces;

namespace ProcessPool.Commands.Worker
{
    /// <summary>
    /// A script pool's finalization script, run once in a worker's runspace when the worker is retired cleanly (idle
    /// time, task limit, memory ceiling, pool removal), at global scope, so it sees what the initialization script
    /// defined. It fails when it throws or writes an error; the worker then reports that error to the parent, which
    /// names the worker in a warning. A script that hangs is ended by the parent after its shutdown timeout.
    /// </summary>
    internal static class ScriptFinalizer
    {
        public static void Run(Runspace? runspace, string? script)
        {
            if (runspace == null || string.IsNullOrWhiteSpace(script)) return;
            using var ps = PowerShell.Create();
            ps.Runspace = runspace;
            ps.AddScript(script, useLocalScope: false);
            try
            {
                ps.Invoke();
            }
            catch (ActionPreferenceStopException stop) when (stop.ErrorRecord?.Exception != null)
            {
                throw stop.ErrorRecord.Exception; // the script's own error, not the -ErrorAction Stop wrapper
            }
            if (ps.Streams.Error.Count > 0)
            {
                var error = ps.Streams.Error[0];
                throw error.Exception ?? new RuntimeException(error.ToString());
            }
        }
    }
}
