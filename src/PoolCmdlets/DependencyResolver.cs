using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Threading;

namespace ProcessPool.Commands
{
    /// <summary>
    /// Loads the third-party assemblies the module ships (System.Text.Json and what it needs) from the module's
    /// <c>dependencies</c> folder, where PowerShell's own probing does not look, so they cannot clash with the host's:
    /// <list type="bullet">
    /// <item>On PowerShell 7 (.NET) a reference the host can satisfy (its own System.Text.Json at the version the
    /// module was built against, or newer) binds to the host's copy, as .NET binds any reference. One the host cannot
    /// satisfy (it has an older version, or none) is loaded from the folder into the module's own
    /// <c>AssemblyLoadContext</c>, named "ProcessPool", beside whatever the host loaded: two versions live side by side
    /// and neither replaces the other.</item>
    /// <item>On Windows PowerShell 5.1 (.NET Framework, which has no load contexts and no binding redirects for
    /// modules) <c>AppDomain.AssemblyResolve</c> loads them from the folder whatever version a caller asks for, as long
    /// as the shipped copy is not older.</item>
    /// </list>
    /// The module's own assemblies (ProcessPool, ProcessPool.Engine) stay in the module's root folder and load as
    /// PowerShell loads any binary module. The load-context API is reached by reflection: the module is built for
    /// netstandard2.0 so that one build serves both editions. Thread-safe; installed once per process.
    /// </summary>
    internal static class DependencyResolver
    {
        /// <summary>The folder, inside the module's folder, that holds the third-party assemblies.</summary>
        public const string FolderName = "dependencies";

        /// <summary>Name of the module's own load context on .NET.</summary>
        public const string LoadContextName = "ProcessPool";

        private static readonly string Folder = Path.Combine(Path.GetDirectoryName(typeof(DependencyResolver).Assembly.Location) ?? "", FolderName);
        private static readonly object Gate = new object();
        private static readonly Dictionary<string, Assembly> Loaded = new Dictionary<string, Assembly>(StringComparer.OrdinalIgnoreCase);
        private static int _installed;
        private static object? _context;
        private static MethodInfo? _loadFromPath;

        /// <summary>Hooks assembly resolution of the default load context (and the module's own), or of the AppDomain on .NET Framework.</summary>
        public static void Install()
        {
            if (Interlocked.Exchange(ref _installed, 1) != 0) return;
            if (RuntimeInformation.FrameworkDescription.StartsWith(".NET Framework", StringComparison.Ordinal))
            {
                AppDomain.CurrentDomain.AssemblyResolve += (_, args) => Resolve(new AssemblyName(args.Name));
                return;
            }
            var loadContext = typeof(object).Assembly.GetType("System.Runtime.Loader.AssemblyLoadContext", throwOnError: true)!;
            _loadFromPath = loadContext.GetMethod("LoadFromAssemblyPath", new[] { typeof(string) });
            _context = Activator.CreateInstance(loadContext, LoadContextName, false);
            var resolving = loadContext.GetEvent("Resolving")!;
            // Func<AssemblyLoadContext, AssemblyName, Assembly?> bound to a method that takes the context as object.
            var callback = Delegate.CreateDelegate(resolving.EventHandlerType!, typeof(DependencyResolver).GetMethod(nameof(OnResolving), BindingFlags.NonPublic | BindingFlags.Static)!);
            resolving.AddEventHandler(loadContext.GetProperty("Default")!.GetValue(null), callback);
            resolving.AddEventHandler(_context, callback); // what the shipped assemblies need in turn
        }

        private static Assembly? OnResolving(object context, AssemblyName name) => Resolve(name);

        /// <summary>
        /// The shipped copy of <paramref name="name"/>, loaded once (into the module's load context on .NET); null when
        /// the folder has no such assembly or only an older version than the one asked for.
        /// </summary>
        private static Assembly? Resolve(AssemblyName name)
        {
            if (string.IsNullOrEmpty(name.Name)) return null;
            string path = Path.Combine(Folder, name.Name + ".dll");
            if (!File.Exists(path)) return null;
            lock (Gate)
            {
                if (Loaded.TryGetValue(name.Name!, out var loaded)) return loaded;
                var shipped = AssemblyName.GetAssemblyName(path);
                if (name.Version != null && shipped.Version != null && shipped.Version < name.Version) return null;
                loaded = _context == null ? Assembly.LoadFrom(path) : (Assembly)_loadFromPath!.Invoke(_context, new object[] { path })!;
                Loaded[name.Name!] = loaded;
                return loaded;
            }
        }
    }
}
