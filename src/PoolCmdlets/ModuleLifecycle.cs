using System;
using System.Management.Automation;

namespace ProcessPool.Commands
{
    /// <summary>
    /// Import and removal of the module. On import, <see cref="DependencyResolver"/> makes the third-party assemblies
    /// the module ships (System.Text.Json and its family, in the <c>dependencies</c> folder) loadable without clashing
    /// with the host's own copies. <c>Remove-Module ProcessPool</c> shuts every pool down, so no worker outlives the module.
    /// </summary>
    public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        /// <summary>Installs the dependency resolver (once per process).</summary>
        public void OnImport() => DependencyResolver.Install();

        /// <summary>Shuts down every pool of the process.</summary>
        public void OnRemove(PSModuleInfo psModuleInfo) => PoolRegistry.ShutDownAll();
    }
}
