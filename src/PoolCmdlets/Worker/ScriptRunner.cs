using System;
using System.Collections.Generic;
using System.Collections.ObjectModel;
using System.Management.Automation;
using System.Management.Automation.Runspaces;
using ProcessPool.Engine.Worker;

namespace ProcessPool.Commands.Worker
{
    /// <summary>
    /// Runs script blocks inside a worker process. One runspace per worker, opened once on the worker's main thread
    /// (<see cref="PSThreadOptions.UseCurrentThread"/>: every call arrives on that thread) and without a host, so
    /// <c>Write-Host</c> reaches only the information stream and nothing user code writes reaches the console.
    /// The pool's setup is applied once; then the global variables and functions are recorded as the baseline, and
    /// when the last map running here is released everything a map added or changed at global scope is undone, so no
    /// state leaks from one invocation into the next while the pool's own setup is there every time.
    /// </summary>
    internal sealed class ScriptRunner : IPayloadRunner
    {
        /// <summary>Automatic variables PowerShell itself rewrites all the time: restoring their values would be wrong or impossible.</summary>
        private static readonly HashSet<string> Volatile = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
        {
            "?", "^", "$", "_", "PSItem", "args", "input", "StackTrace", "Error", "MyInvocation", "PSCmdlet", "PSBoundParameters",
            "this", "foreach", "switch", "PWD", "ExecutionContext", "Host", "PID", "PSScriptRoot", "PSCommandPath", "Matches", "LASTEXITCODE",
        };

        /// <summary>Imports the pool's modules (Import-Module lives in the core snap-in, so nothing else is loaded to run this).</summary>
        private const string ImportScript = "param($__ppModules) foreach ($__ppModule in $__ppModules) { Import-Module -Name $__ppModule -Global -ErrorAction Stop }";

        private Runspace? _runspace;
        private Dictionary<string, object?> _baselineVariables = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        private HashSet<string> _baselineFunctions = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private HashSet<string> _baselineAliases = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        private string? _baselineLocation;
        private string? _finalizationScript;
        private int _activeMaps;

        /// <summary>Environment variables and current directory: each map's applied per chunk, the worker's own restored after.</summary>
        internal MapEnvironment ProcessState { get; } = new MapEnvironment();

        internal Runspace Runspace => _runspace ?? throw new InvalidOperationException("The script runner was not initialized.");

        /// <inheritdoc />
        public void Initialize(byte[] setup)
        {
            var settings = ScriptSetup.Decode(setup);
            var state = InitialSessionState.CreateDefault2();
            state.ThreadOptions = PSThreadOptions.UseCurrentThread;
            ExposeOwnModule(state);
            _runspace = RunspaceFactory.CreateRunspace(state);
            _runspace.Open();
            ProcessState.BeforeSetup();

            // Setup and baseline go through the session state APIs rather than cmdlets such as Get-Variable or
            // Remove-Item, whose modules would otherwise be auto-loaded into every worker at start (a few hundred ms).
            var session = _runspace.SessionStateProxy;
            if (settings.Modules.Count > 0)
            {
                try { Run(ImportScript, useLocalScope: true, settings.Modules.ToArray()); }
                catch (ActionPreferenceStopException stop) when (stop.ErrorRecord?.Exception != null)
                {
                    throw stop.ErrorRecord.Exception; // the import's own error, not the -ErrorAction Stop wrapper
                }
            }
            foreach (var function in settings.Functions)
                session.InvokeProvider.Item.Set(@"function:\" + function.Key, ScriptBlock.Create(function.Value));
            foreach (var variable in settings.Variables)
            {
                try { session.SetVariable(variable.Key, variable.Value); }
                catch (SessionStateException) { /* a read-only or constant variable of the same name stays as it is */ }
            }
            if (!string.IsNullOrWhiteSpace(settings.InitializationScript))
            {
                // Dot-sourced at global scope: what the initialization script defines is the pool's state.
                using var ps = Create();
                ps.AddScript(settings.InitializationScript, useLocalScope: false);
                foreach (var argument in settings.ArgumentList) ps.AddArgument(argument);
                ps.Invoke();
                ReportErrors(ps, "the initialization script");
            }

            var baseline = Snapshot();
            foreach (var variable in baseline.Variables) _baselineVariables[variable.Name] = variable.Value;
            _baselineFunctions = baseline.Functions;
            _baselineAliases = baseline.Aliases;
            _baselineLocation = _runspace.SessionStateProxy.Path.CurrentFileSystemLocation.ProviderPath;
            _finalizationScript = settings.FinalizationScript; // only a worker whose setup succeeded is finalized
            ProcessState.AfterSetup();
        }

        /// <summary>
        /// Lets an item call this module's cmdlets (a nested <c>Invoke-PoolMap</c>) even when the caller imported the
        /// module by path. When the module sits in a folder named after it (<c>ProcessPool/</c> or
        /// <c>ProcessPool/&lt;version&gt;/</c>) that folder's parent joins this process's PSModulePath, so the module
        /// autoloads on first use and a worker that never nests pays nothing; any other layout imports the manifest.
        /// Worker processes inherit the environment, so deeper levels find it too; every map's environment keeps the entry.
        /// </summary>
        private void ExposeOwnModule(InitialSessionState state)
        {
            string? directory = System.IO.Path.GetDirectoryName(typeof(ScriptRunner).Assembly.Location);
            if (string.IsNullOrEmpty(directory)) return;
            string manifest = System.IO.Path.Combine(directory, ModuleName + ".psd1");
            if (!System.IO.File.Exists(manifest)) return;
            var folder = new System.IO.DirectoryInfo(directory);
            string? root = null;
            if (string.Equals(folder.Name, ModuleName, StringComparison.OrdinalIgnoreCase)) root = folder.Parent?.FullName;
            else if (Version.TryParse(folder.Name, out _) && string.Equals(folder.Parent?.Name, ModuleName, StringComparison.OrdinalIgnoreCase)) root = folder.Parent?.Parent?.FullName;
            if (root == null)
            {
                state.ImportPSModule(new[] { manifest });
                return;
            }
            // Maps run with the caller's environment (MapEnvironment), so the entry is kept in theirs too.
            ProcessState.RequirePathEntry("PSModulePath", root);
            Environment.SetEnvironmentVariable("PSModulePath", MapEnvironment.WithPathEntry(Environment.GetEnvironmentVariable("PSModulePath"), root));
        }

        private const string ModuleName = "ProcessPool";

        /// <inheritdoc />
        public IMapExecutor Define(byte[] payload)
        {
            var executor = new ScriptExecutor(this, ScriptPayload.Decode(payload));
            _activeMaps++;
            return executor;
        }

        /// <summary>Called when a map's executor is disposed; the last one out restores the baseline.</summary>
        internal void Released()
        {
            if (--_activeMaps > 0 || _runspace == null) return;
            var now = Snapshot();
            var extraVariables = new List<string>();
            foreach (var variable in now.Variables)
            {
                if (!_baselineVariables.TryGetValue(variable.Name, out var original)) extraVariables.Add(variable.Name);
                else if (!ReferenceEquals(variable.Value, original) && !Volatile.Contains(variable.Name) &&
                         (variable.Options & (ScopedItemOptions.ReadOnly | ScopedItemOptions.Constant)) == 0)
                {
                    try { variable.Value = original; }
                    catch (SessionStateException) { /* a variable that refuses its old value keeps the new one */ }
                }
            }
            now.Functions.ExceptWith(_baselineFunctions);
            now.Aliases.ExceptWith(_baselineAliases);
            var items = _runspace.SessionStateProxy.InvokeProvider.Item;
            foreach (string name in extraVariables) Remove(items, @"variable:\" + name);
            foreach (string name in now.Functions) Remove(items, @"function:\" + name);
            foreach (string name in now.Aliases) Remove(items, @"alias:\" + name);
            if (_baselineLocation != null) EnterLocation(_baselineLocation);
            if (_runspace.SessionStateProxy.GetVariable("Error") is System.Collections.ArrayList errors) errors.Clear();
        }

        private static void Remove(ItemCmdletProviderIntrinsics items, string path)
        {
            try { items.Remove(new[] { path }, recurse: false, force: true, literalPath: true); }
            catch (Exception error) when (error is SessionStateException || error is ProviderInvocationException)
            {
                Console.Error.WriteLine($"ProcessPool worker: could not remove '{path}': {error.Message}");
            }
        }

        /// <summary>
        /// A script block bound to this runspace's session state. PowerShell compiles such a block once and runs it at
        /// full speed from the first call; a block created from text outside the runspace runs several times slower.
        /// </summary>
        internal ScriptBlock Bind(string script)
        {
            using var ps = Create();
            ps.AddScript("param($__ppText) $ExecutionContext.InvokeCommand.NewScriptBlock($__ppText)", useLocalScope: true).AddArgument(script);
            var results = ps.Invoke();
            return results.Count == 1 && results[0].BaseObject is ScriptBlock block
                ? block
                : throw new InvalidOperationException("The script could not be turned into a script block.");
        }

        /// <summary>Moves the runspace to the caller's directory, when it has one and it exists here.</summary>
        internal void EnterLocation(string? location)
        {
            if (location == null || _runspace == null) return;
            var path = _runspace.SessionStateProxy.Path;
            if (string.Equals(path.CurrentLocation.Path, location, StringComparison.Ordinal)) return;
            try { path.SetLocation(WildcardPattern.Escape(location)); }
            catch (Exception error) when (error is ItemNotFoundException || error is PSArgumentException || error is DriveNotFoundException || error is ProviderNotFoundException)
            {
                Console.Error.WriteLine($"ProcessPool worker: cannot enter '{location}': {error.Message}");
            }
        }

        /// <summary>Runs the pool's finalization script, if any, then closes the runspace; a script that fails throws (the worker reports it to the parent).</summary>
        public void Dispose()
        {
            try { ScriptFinalizer.Run(_runspace, _finalizationScript); }
            finally
            {
                _finalizationScript = null;
                _runspace?.Dispose();
                _runspace = null;
            }
        }

        private PowerShell Create()
        {
            var ps = PowerShell.Create();
            ps.Runspace = Runspace;
            return ps;
        }

        private void Run(string script, bool useLocalScope, params object?[] arguments)
        {
            using var ps = Create();
            ps.AddScript(script, useLocalScope);
            foreach (var argument in arguments) ps.AddArgument(argument);
            ps.Invoke();
        }

        private sealed class State
        {
            public List<PSVariable> Variables { get; } = new List<PSVariable>();
            public HashSet<string> Functions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            public HashSet<string> Aliases { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        }

        private State Snapshot()
        {
            var items = Runspace.SessionStateProxy.InvokeProvider.Item;
            var state = new State();
            foreach (var item in items.Get(new[] { @"variable:\*" }, force: true, literalPath: false))
                if (item.BaseObject is PSVariable variable) state.Variables.Add(variable);
            foreach (var item in items.Get(new[] { @"function:\*" }, force: true, literalPath: false))
                if (item.BaseObject is CommandInfo function) state.Functions.Add(function.Name);
            foreach (var item in items.Get(new[] { @"alias:\*" }, force: true, literalPath: false))
                if (item.BaseObject is CommandInfo alias) state.Aliases.Add(alias.Name);
            return state;
        }

        /// <summary>Non-terminating errors of setup go to stderr, where the parent turns them into verbose pool events.</summary>
        private static void ReportErrors(PowerShell ps, string what)
        {
            foreach (var error in ps.Streams.Error)
                Console.Error.WriteLine($"ProcessPool worker: {what} wrote an error: {error}");
        }
    }
}
