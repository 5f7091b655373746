using System.Linq;
using System.Management.Automation;

namespace ProcessPool.Commands
{
    /// <summary>
    /// <para type="synopsis">Gets the process pools of this PowerShell process.</para>
    /// <para type="description">Lists the registered pools, the default pool included once it was used, optionally filtered by name.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.Get, "ProcessPool")]
    [OutputType(typeof(ProcessPoolHandle))]
    public sealed class GetProcessPoolCommand : PSCmdlet
    {
        /// <summary>Names of the pools to get; wildcards are allowed. All pools when omitted.</summary>
        [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        [ArgumentCompleter(typeof(PoolNameCompleter))]
        public string[]? Name { get; set; }

        /// <summary>Writes the matching pools; a name without wildcards that matches nothing is a PoolNotFound error.</summary>
        protected override void ProcessRecord()
        {
            var pools = PoolRegistry.All();
            if (Name == null)
            {
                Write(pools);
                return;
            }
            foreach (string name in Name)
            {
                var pattern = new WildcardPattern(name, WildcardOptions.IgnoreCase);
                var matches = pools.Where(p => pattern.IsMatch(p.Name)).ToList();
                if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(name)) WriteError(ErrorRecords.NotFound(name));
                Write(matches);
            }
        }

        /// <summary>Writes the pools, each after its waiting warnings (finalizers that failed since a command last used it).</summary>
        private void Write(System.Collections.Generic.List<ProcessPoolHandle> pools)
        {
            foreach (var pool in pools)
            {
                PoolWarnings.Drain(pool.Pool, WriteWarning);
                WriteObject(pool);
            }
        }
    }
}
