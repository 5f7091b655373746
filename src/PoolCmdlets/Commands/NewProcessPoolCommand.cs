using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Threading;
using ProcessPool.Commands.Mapping;
using ProcessPool.Commands.Worker;
using ProcessPool.Engine;
using ProcessPool.Engine.Methods;

namespace ProcessPool.Commands
{
    /// <summary>
    /// <para type="synopsis">Creates a pool of worker processes with its own size, limits and per-worker setup.</para>
    /// <para type="description">Builds the pool's options and setup, starts the workers, and waits until the first is ready so a setup that cannot work fails here.</para>
    /// </summary>
    [Cmdlet(VerbsCommon.New, "ProcessPool", DefaultParameterSetName = ScriptSet)]
    [OutputType(typeof(ProcessPoolHandle))]
    public sealed class NewProcessPoolCommand : PSCmdlet, IDisposable
    {
        private const string ScriptSet = "Script";
        private const string MethodSet = "Method";

        private readonly CancellationTokenSource _stop = new CancellationTokenSource();

        /// <summary>Number of worker processes; the processor count when omitted. -ThrottleLimit is another name for it.</summary>
        [Parameter(Position = 0)]
        [Alias("ThrottleLimit")]
        [ValidateRange(1, PoolRegistry.MaxDefaultSize)]
        public int Size { get; set; } = Environment.ProcessorCount;

        /// <summary>The pool's name, for <c>-Pool</c>, Get-ProcessPool and Remove-ProcessPool; pool1, pool2, ... when omitted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? Name { get; set; }

        /// <summary>Items a worker runs before it is replaced by a fresh one.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int MaxTasksPerWorker { get; set; }

        /// <summary>Working-set ceiling of a worker in megabytes; a worker above it is replaced between chunks.</summary>
        [Parameter]
        [ValidateRange(1, long.MaxValue / (1024 * 1024))]
        public long MaxWorkerMemoryMB { get; set; }

        /// <summary>Seconds an idle worker waits for work before it exits; the pool starts workers again when work arrives.</summary>
        [Parameter]
        [ValidateRange(0.1, double.MaxValue)]
        public double IdleTimeoutSeconds { get; set; }

        /// <summary>Seconds a worker has to run its finalizer and exit when it is retired or the pool is removed; it is then killed, with a warning.</summary>
        [Parameter]
        [ValidateRange(0.1, 3600)]
        public double ShutdownTimeoutSeconds { get; set; }

        /// <summary>Modules every worker imports when it starts: names, or paths (relative paths are resolved against the current location).</summary>
        [Parameter(ParameterSetName = ScriptSet)]
        [ValidateNotNullOrEmpty]
        public string[] ImportModule { get; set; } = Array.Empty<string>();

        /// <summary>Functions of the caller (names or wildcards) copied into every worker.</summary>
        [Parameter(ParameterSetName = ScriptSet)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        public string[] Function { get; set; } = Array.Empty<string>();

        /// <summary>Variables of the caller (names or wildcards) copied into every worker.</summary>
        [Parameter(ParameterSetName = ScriptSet)]
        [ValidateNotNullOrEmpty]
        [SupportsWildcards]
        public string[] Variable { get; set; } = Array.Empty<string>();

        /// <summary>A script every worker runs once when it starts, at global scope; what it defines is there for every map.</summary>
        [Parameter(ParameterSetName = ScriptSet)]
        public ScriptBlock? InitializationScript { get; set; }

        /// <summary>Arguments for the initialization script's <c>param()</c> block.</summary>
        [Parameter(ParameterSetName = ScriptSet)]
        public object[] ArgumentList { get; set; } = Array.Empty<object>();

        /// <summary>A script every worker runs once when it is retired cleanly (idle time, task limit, memory ceiling, pool removal), at global scope.</summary>
        [Parameter(ParameterSetName = ScriptSet)]
        public ScriptBlock? FinalizationScript { get; set; }

        /// <summary>The assembly that holds the initializer and finalizer methods.</summary>
        [Parameter(Mandatory = true, ParameterSetName = MethodSet)]
        [ValidateNotNullOrEmpty]
        public string AssemblyPath { get; set; } = null!;

        /// <summary>A public static method (<c>Namespace.Type::Method</c>) every worker calls once when it starts.</summary>
        [Parameter(ParameterSetName = MethodSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(MethodNameCompleter))]
        public string? InitializerMethod { get; set; }

        /// <summary>Arguments for the initializer method, converted to its parameter types.</summary>
        [Parameter(ParameterSetName = MethodSet)]
        public object[] InitializerArgumentList { get; set; } = Array.Empty<object>();

        /// <summary>A public static method (<c>Namespace.Type::Method</c>) every worker calls once when it is retired cleanly.</summary>
        [Parameter(ParameterSetName = MethodSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(MethodNameCompleter))]
        public string? FinalizerMethod { get; set; }

        /// <summary>Arguments for the finalizer method, converted to its parameter types.</summary>
        [Parameter(ParameterSetName = MethodSet)]
        public object[] FinalizerArgumentList { get; set; } = Array.Empty<object>();

        /// <summary>Creates the pool, registers it and waits for its first worker.</summary>
        protected override void EndProcessing()
        {
            string name = Name ?? PoolRegistry.NextName();
            if (PoolRegistry.IsReservedName(name)) ThrowTerminatingError(ErrorRecords.NameReserved(name));
            if (!PoolRegistry.IsNameFree(name)) ThrowTerminatingError(ErrorRecords.NameInUse(name));

            PoolOptions options;
            try { options = PoolFactory.Options(name, Size, ScriptSetup(), MethodSetup()); }
            catch (BrokenPoolException broken) { ThrowTerminatingError(ErrorRecords.MapFault(broken, name)); return; }
            if (MaxTasksPerWorker > 0) options.MaxTasksPerWorker = MaxTasksPerWorker;
            if (MaxWorkerMemoryMB > 0) options.MaxWorkerMemoryBytes = MaxWorkerMemoryMB * 1024 * 1024;
            if (IdleTimeoutSeconds > 0) options.IdleTimeout = TimeSpan.FromSeconds(IdleTimeoutSeconds);
            if (ShutdownTimeoutSeconds > 0) options.ShutdownTimeout = TimeSpan.FromSeconds(ShutdownTimeoutSeconds);

            var pool = new WorkerPool(options);
            // The engine starts the workers in its constructor: a launch event raised before this subscription is not shown.
            using var events = new PoolEventRelay(pool);
            var handle = new ProcessPoolHandle(pool, isDefault: false);
            if (!PoolRegistry.TryRegister(handle))
            {
                pool.Terminate();
                ThrowTerminatingError(ErrorRecords.NameInUse(name));
            }
            try
            {
                WaitForFirstWorker(pool, name, events);
            }
            catch (Exception error)
            {
                PoolRegistry.Unregister(handle);
                pool.Terminate();
                if (error is BrokenPoolException broken) ThrowTerminatingError(ErrorRecords.MapFault(broken, name));
                throw;
            }
            WriteObject(handle);
        }

        /// <summary>
        /// Waits until one worker is ready: it proves the setup works (the others keep starting in the background).
        /// The engine retries a failed start only when work is waiting, so here a start that fails with no other
        /// worker on the way is the pool's failure, reported with the worker's own reason.
        /// </summary>
        private void WaitForFirstWorker(WorkerPool pool, string name, PoolEventRelay events)
        {
            var deadline = DateTime.UtcNow + pool.Options.StartTimeout + TimeSpan.FromSeconds(10);
            string? failure = null;
            while (!pool.WaitForWorkers(TimeSpan.FromMilliseconds(100), 1))
            {
                events.Drain(WriteVerbose, e => { if (e.Kind == PoolEventKind.WorkerStartFailed) failure = e.Message; });
                if (_stop.IsCancellationRequested) throw new PipelineStoppedException();
                var stats = pool.GetStats();
                if (failure != null && stats.Starting == 0 && stats.Idle + stats.Busy == 0)
                    throw new BrokenPoolException($"The pool '{name}' cannot start workers: {failure}");
                if (DateTime.UtcNow > deadline)
                    throw new BrokenPoolException($"The pool '{name}' started no worker within {pool.Options.StartTimeout.TotalSeconds:0} s.");
            }
            events.Drain(WriteVerbose);
        }

        /// <summary>Ctrl+C while the workers start: the pool is torn down.</summary>
        protected override void StopProcessing() => _stop.Cancel();

        /// <summary>Releases the cancellation source.</summary>
        public void Dispose() => _stop.Dispose();

        private ScriptSetup ScriptSetup()
        {
            var setup = new ScriptSetup { InitializationScript = InitializationScript?.ToString(), ArgumentList = ArgumentList, FinalizationScript = FinalizationScript?.ToString() };
            foreach (string module in ImportModule) setup.Modules.Add(IsModulePath(module) ? SessionState.Path.GetUnresolvedProviderPathFromPSPath(module) : module);
            foreach (string pattern in Function)
            {
                var found = InvokeCommand.GetCommands(pattern, CommandTypes.Function | CommandTypes.Filter, nameIsPattern: true).OfType<FunctionInfo>().ToList();
                if (found.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(pattern)) ThrowTerminatingError(ErrorRecords.FunctionNotFound(pattern));
                foreach (var function in found) setup.Functions[function.Name] = function.Definition;
            }
            foreach (string pattern in Variable)
            {
                if (!WildcardPattern.ContainsWildcardCharacters(pattern))
                {
                    var variable = SessionState.PSVariable.Get(pattern) ?? throw Terminate(ErrorRecords.VariableNotFound(pattern));
                    setup.Variables[variable.Name] = variable.Value;
                    continue;
                }
                var wildcard = new WildcardPattern(pattern, WildcardOptions.IgnoreCase);
                foreach (var item in SessionState.InvokeProvider.Item.Get(@"variable:\*"))
                    if (item.BaseObject is PSVariable variable && wildcard.IsMatch(variable.Name) && IsCopyable(variable))
                        setup.Variables[variable.Name] = variable.Value;
            }
            return setup;
        }

        private MethodSetup? MethodSetup()
        {
            if (ParameterSetName != MethodSet) return null;
            if (InitializerMethod == null && FinalizerMethod == null) ThrowTerminatingError(ErrorRecords.MethodSetupMissing(AssemblyPath));
            string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(AssemblyPath);
            if (!System.IO.File.Exists(path)) ThrowTerminatingError(ErrorRecords.AssemblyNotFound(path));
            return new MethodSetup
            {
                AssemblyPath = path,
                Initializer = InitializerMethod,
                InitializerArguments = System.Text.Encoding.UTF8.GetString(Codec.MethodValues.Encode(InitializerArgumentList)),
                Finalizer = FinalizerMethod,
                FinalizerArguments = System.Text.Encoding.UTF8.GetString(Codec.MethodValues.Encode(FinalizerArgumentList)),
            };
        }

        /// <summary>
        /// True when <c>-ImportModule</c> names a path rather than a module: it has a directory separator, a drive, a
        /// leading <c>.</c> or <c>~</c>, or a module file's extension. Import-Module takes those relative to the current
        /// location, which in a worker is not the caller's, so they are resolved here through the provider. A bare
        /// name is left for the worker's PSModulePath.
        /// </summary>
        internal static bool IsModulePath(string module) =>
            module.IndexOfAny(new[] { '/', '\\', ':' }) >= 0 || module.StartsWith(".", StringComparison.Ordinal) || module.StartsWith("~", StringComparison.Ordinal)
            || new[] { ".psd1", ".psm1", ".dll", ".ps1" }.Any(extension => module.EndsWith(extension, StringComparison.OrdinalIgnoreCase));

        /// <summary>Wildcards copy the caller's own variables, not PowerShell's automatic and constant ones.</summary>
        private static bool IsCopyable(PSVariable variable) =>
            (variable.Options & (ScopedItemOptions.Constant | ScopedItemOptions.ReadOnly | ScopedItemOptions.AllScope)) == 0 &&
            variable.GetType() == typeof(PSVariable);

        private Exception Terminate(ErrorRecord record)
        {
            ThrowTerminatingError(record);
            return new InvalidOperationException(); // not reached
        }
    }
}
