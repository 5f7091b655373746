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

        /// <summary>Number of local worker processes; the processor count when omitted, none when only -HostName is given. -ThrottleLimit is another name for it.</summary>
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

        /// <summary>Remote hosts whose workers join the pool, reached with the system OpenSSH client: <c>host</c>, <c>user@host</c>, <c>host:port</c>.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string[]? HostName { get; set; }

        /// <summary>Workers on each remote host; when omitted, each host's processor count, which its first worker reports at handshake.</summary>
        [Parameter]
        [ValidateRange(1, WorkerGroup.MaxHostSize)]
        public int WorkersPerHost { get; set; }

        /// <summary>User name for hosts that name none; ssh's default (its configuration, else the local user) when omitted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? UserName { get; set; }

        /// <summary>Private key file for ssh (<c>-i</c>); ssh's own keys and agent when omitted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? KeyFilePath { get; set; }

        /// <summary>Port for hosts that name none; ssh's default (22 or the configuration's) when omitted.</summary>
        [Parameter]
        [ValidateRange(1, 65535)]
        public int Port { get; set; }

        /// <summary>Extra ssh options (<c>ssh -o Name=Value</c>), for example <c>@{ UserKnownHostsFile = '~/pool_known_hosts' }</c>.</summary>
        [Parameter]
        public System.Collections.Hashtable? Options { get; set; }

        /// <summary>Milliseconds ssh may take to connect (<c>ConnectTimeout</c>, rounded up to whole seconds).</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int ConnectingTimeout { get; set; }

        /// <summary>The PowerShell 7 command on the remote hosts; <c>pwsh</c> on the remote PATH when omitted.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? RemotePowerShell { get; set; }

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
            var remote = RemoteGroups();
            int localSize = remote.Count > 0 && !MyInvocation.BoundParameters.ContainsKey(nameof(Size)) ? 0 : Size;
            var methodSetup = MethodSetup();
            try { options = PoolFactory.Options(name, localSize, ScriptSetup(), methodSetup, remote); }
            catch (BrokenPoolException broken) { ThrowTerminatingError(ErrorRecords.MapFault(broken, name)); return; }
            // Remote hosts receive the initializer's assembly over their channel; they do not have the caller's path.
            if (methodSetup != null && remote.Count > 0) options.SetupFiles.Add(ShippedFile.Read(methodSetup.AssemblyPath));
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
                if (remote.Count > 0) WaitForHosts(pool, name, events);
                else WaitForFirstWorker(pool, name, events);
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

        /// <summary>
        /// Waits until every host has a ready worker or has failed, reports each failed host as a non-terminating error
        /// (its name and ssh's own message), and fails when no host can run workers.
        /// </summary>
        private void WaitForHosts(WorkerPool pool, string name, PoolEventRelay events)
        {
            var deadline = DateTime.UtcNow + pool.Options.StartTimeout + TimeSpan.FromSeconds(10);
            while (true)
            {
                events.Drain(WriteVerbose);
                if (_stop.IsCancellationRequested) throw new PipelineStoppedException();
                var hosts = pool.GetHostStats();
                if (hosts.All(h => h.State == "Up" || h.State == "Failed" || (h.Starting == 0 && h.LastError != null))) break;
                if (DateTime.UtcNow > deadline) break;
                try { pool.WaitForWorkers(TimeSpan.FromMilliseconds(100), pool.Size); }
                catch (BrokenPoolException) { break; }
            }
            events.Drain(WriteVerbose);
            var final = pool.GetHostStats();
            // With some host up, each failed host is its own non-terminating error; with none, one terminating error names them all.
            if (final.Any(h => h.State == "Up"))
            {
                foreach (var host in final.Where(h => h.State != "Up" && h.LastError != null))
                    WriteError(ErrorRecords.HostFailed(host.HostName, host.LastError!));
            }
            else
                throw new BrokenPoolException($"The pool '{name}' cannot start workers on any host: " +
                    string.Join("; ", final.Select(h => $"{h.HostName}: {h.LastError ?? "no worker ready within " + pool.Options.StartTimeout.TotalSeconds.ToString("0") + " s"}")));
        }

        private List<WorkerGroup> RemoteGroups()
        {
            if (HostName == null) return new List<WorkerGroup>();
            var ssh = new SshSettings();
            if (KeyFilePath != null) ssh.KeyFilePath = SessionState.Path.GetUnresolvedProviderPathFromPSPath(KeyFilePath);
            if (ConnectingTimeout > 0) ssh.ConnectTimeout = TimeSpan.FromMilliseconds(ConnectingTimeout);
            if (Options != null)
                foreach (System.Collections.DictionaryEntry pair in Options)
                    ssh.Options[Convert.ToString(pair.Key, System.Globalization.CultureInfo.InvariantCulture) ?? ""] =
                        Convert.ToString(pair.Value is PSObject pso ? pso.BaseObject : pair.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
            try
            {
                return RemoteWorkers.Groups(HostName, WorkersPerHost > 0 ? WorkersPerHost : null, ssh, UserName, Port > 0 ? Port : null, RemotePowerShell);
            }
            catch (ArgumentException refused)
            {
                ThrowTerminatingError(ErrorRecords.RemoteRefused(refused, HostName));
                return null!;
            }
            catch (BrokenPoolException noSsh)
            {
                ThrowTerminatingError(ErrorRecords.MapFault(noSsh, HostName));
                return null!;
            }
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
