using System;
using System.Linq;
using System.Management.Automation;
using System.Threading.Tasks;

namespace ProcessPool.Commands
{
    /// <summary>
    /// <para type="synopsis">Shuts process pools down and removes them.</para>
    /// <para type="description">Without -Force a pool finishes the maps running on it before its workers exit and run their finalizers (a failed one is a warning); with -Force its workers are killed at once.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Remove, "ProcessPool", DefaultParameterSetName = PoolSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low)]
    public sealed class RemoveProcessPoolCommand : PSCmdlet
    {
        private const string PoolSet = "Pool";
        private const string NameSet = "Name";

        /// <summary>How long a graceful removal waits for running maps before it kills what is left.</summary>
        private static readonly TimeSpan CloseTimeout = TimeSpan.FromMinutes(10);

        private volatile bool _stopping;

        /// <summary>The pools to remove, from New-ProcessPool or Get-ProcessPool.</summary>
        [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ParameterSetName = PoolSet)]
        [PoolTransformation]
        [ArgumentCompleter(typeof(PoolNameCompleter))]
        public ProcessPoolHandle[] Pool { get; set; } = null!;

        /// <summary>Names of the pools to remove; wildcards are allowed.</summary>
        [Parameter(Mandatory = true, ValueFromPipelineByPropertyName = true, ParameterSetName = NameSet)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(PoolNameCompleter))]
        public string[] Name { get; set; } = null!;

        /// <summary>Kills the workers at once, stopping the maps running on the pool.</summary>
        [Parameter]
        public SwitchParameter Force { get; set; }

        /// <summary>Removes each pool given or matched.</summary>
        protected override void ProcessRecord()
        {
            if (ParameterSetName == PoolSet)
            {
                foreach (var handle in Pool)
                {
                    if (!handle.IsResolved) WriteError(ErrorRecords.NotFound(handle.Name));
                    else Remove(handle);
                }
                return;
            }
            var pools = PoolRegistry.All();
            foreach (string name in Name)
            {
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                var matches = pools.Where(p => pattern.IsMatch(p.Name)).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name)) WriteError(ErrorRecords.NotFound(name));
                foreach (var handle in matches) Remove(handle);
            }
        }

        /// <summary>Ctrl+C during a graceful removal turns it into a forced one.</summary>
        protected override void StopProcessing() => _stopping = true;

        private void Remove(ProcessPoolHandle handle)
        {
            if (!ShouldProcess($"process pool '{handle.Name}' ({handle.Size} workers)", Force ? "Kill" : "Close")) return;
            PoolRegistry.Unregister(handle);
            Close(handle);
            PoolWarnings.Drain(handle.Pool, WriteWarning); // finalizers that failed as the workers exited
        }

        private void Close(ProcessPoolHandle handle)
        {
            if (Force)
            {
                handle.Pool.Terminate();
                return;
            }
            var closing = Task.Run(() => handle.Pool.Close(CloseTimeout));
            while (!closing.Wait(100))
            {
                if (_stopping)
                {
                    handle.Pool.Terminate();
                    throw new PipelineStoppedException();
                }
            }
        }
    }
}
