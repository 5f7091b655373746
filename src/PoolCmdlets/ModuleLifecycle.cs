using System;
using System.IO;
using System.Management.Automation;
using System.Reflection;
using System.Runtime.InteropServices;

namespace ProcessPool.Commands
{
    /// <summary>
    /// Import and removal of the module. On Windows PowerShell 5.1 (.NET Framework, no binding redirects) the
    /// dependencies beside the module are loaded whatever version a caller asks for. <c>Remove-Module ProcessPool</c>
    /// shuts every pool down, so no worker outlives the module.
    /// </summary>
    public sealed class ModuleLifecycle : IModuleAssemblyInitializer, IModuleAssemblyCleanup
    {
        private static readonly string ModuleDirectory = Path.GetDirectoryName(typeof(ModuleLifecycle).Assembly.Location) ?? "";
        private static int _resolverInstalled;

        /// <summary>Installs the dependency resolver on .NET Framework.</summary>
        public void OnImport()
        {
            if (!RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal)) return;
            if (System.Threading.Interlocked.Exchange(ref _resolverInstalled, 1) == 0) AppDomain.CurrentDomain.AssemblyResolve += ResolveBesideModule;
        }

        /// <summary>Shuts down every pool of the process.</summary>
        public void OnRemove(PSModuleInfo psModuleInfo) => PoolRegistry.ShutDownAll();

        private static Assembly? ResolveBesideModule(object? sender, ResolveEventArgs args)
        {
            string path = Path.Combine(ModuleDirectory, new AssemblyName(args.Name).Name + ".dll");
            return File.Exists(path) ? Assembly.LoadFrom(path) : null;
        }
    }
}
