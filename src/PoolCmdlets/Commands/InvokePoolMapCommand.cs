using System;
using System.Management.Automation;
using System.Management.Automation.Internal;
using System.Threading;
using ProcessPool.Commands.Codec;
using ProcessPool.Commands.Mapping;
using ProcessPool.Commands.Worker;
using ProcessPool.Engine;
using ProcessPool.Engine.Diagnostics;
using ProcessPool.Engine.Methods;

namespace ProcessPool.Commands
{
    /// <summary>
    /// <para type="synopsis">Runs a script block or a static .NET method over pipeline input in a pool of worker processes.</para>
    /// <para type="description">Thin: binds parameters, builds the map's options, and hands the pipeline thread to a <see cref="MapPump"/> (or a <see cref="PoolMapJob"/>).</para>
    /// </summary>
    [Cmdlet(VerbsLifecycle.Invoke, "PoolMap", DefaultParameterSetName = ScriptBlockSet)]
    [OutputType(typeof(object))]
    [OutputType(typeof(PoolMapJob))]
    public sealed class InvokePoolMapCommand : PSCmdlet, IDisposable
    {
        private const string ScriptBlockSet = "ScriptBlock";
        private const string MethodSet = "Method";

        private readonly CancellationTokenSource _stop = new CancellationTokenSource();
        private MapPump? _pump;
        private PoolMapJob? _job;
        private JobLogWriter? _log;
        private Func<object?, byte[]> _encode = _ => Array.Empty<byte>();
        private int _maxItemBytes = int.MaxValue;
        private bool _jobHandedOut;
        private long _position;
        private bool _timedOut;

        /// <summary>The script block to run for each input object; <c>$_</c> is the object.</summary>
        [Parameter(Mandatory = true, Position = 0, ParameterSetName = ScriptBlockSet)]
        public ScriptBlock ScriptBlock { get; set; } = null!;

        /// <summary>The assembly that holds the static method to run.</summary>
        [Parameter(Mandatory = true, ParameterSetName = MethodSet)]
        [ValidateNotNullOrEmpty]
        public string AssemblyPath { get; set; } = null!;

        /// <summary>The static method to run, as <c>Namespace.Type::Method</c>.</summary>
        [Parameter(Mandatory = true, ParameterSetName = MethodSet)]
        [ValidateNotNullOrEmpty]
        [ArgumentCompleter(typeof(MethodNameCompleter))]
        public string Method { get; set; } = null!;

        /// <summary>The objects to process, usually from the pipeline.</summary>
        [Parameter(ValueFromPipeline = true)]
        public PSObject? InputObject { get; set; } = AutomationNull.Value;

        /// <summary>The pool to run on (an object from New-ProcessPool or a pool's name); the default pool when omitted.</summary>
        [Parameter]
        [PoolTransformation]
        [ArgumentCompleter(typeof(PoolNameCompleter))]
        public ProcessPoolHandle? Pool { get; set; }

        /// <summary>
        /// Runs the map on the default pool of this many workers instead of one per processor (at most this many
        /// items run at once). Not with -Pool: a pool made with New-ProcessPool has its own -Size.
        /// </summary>
        [Parameter]
        [ValidateRange(1, PoolRegistry.MaxDefaultSize)]
        public int ThrottleLimit { get; set; }

        /// <summary>Items per chunk; adaptive when omitted.</summary>
        [Parameter]
        [ValidateRange(1, int.MaxValue)]
        public int ChunkSize { get; set; }

        /// <summary>Writes results as they complete instead of in input order.</summary>
        [Parameter]
        public SwitchParameter Unordered { get; set; }

        /// <summary>Arguments for the script block's <c>param()</c> block, the same for every item.</summary>
        [Parameter(ParameterSetName = ScriptBlockSet)]
        [Alias("Args")]
        public object[] ArgumentList { get; set; } = Array.Empty<object>();

        /// <summary>
        /// Spreads each item over the parameters, like Python's <c>starmap</c>: an array binds by position, a hashtable
        /// or object by name (like splatting); <c>$_</c> is still the whole item (a one-element array holding an array is taken as that array).
        /// </summary>
        [Parameter]
        public SwitchParameter Spread { get; set; }

        /// <summary>Longest one item may run, in seconds; its worker is then killed and replaced and the item fails.</summary>
        [Parameter]
        [ValidateRange(0.001, int.MaxValue)]
        public double ItemTimeoutSeconds { get; set; }

        /// <summary>Longest the whole run may take, in seconds; the run then stops with an error.</summary>
        [Parameter]
        [ValidateRange(0.001, int.MaxValue)]
        public double TimeoutSeconds { get; set; }

        /// <summary>Times an item that failed (threw or timed out) is run again before its error is reported.</summary>
        [Parameter]
        [ValidateRange(0, 100)]
        public int RetryCount { get; set; }

        /// <summary>Serialization depth of objects that travel as CliXml (default 1, as in remoting and jobs).</summary>
        [Parameter(ParameterSetName = ScriptBlockSet)]
        [ValidateRange(1, 100)]
        public int Depth { get; set; } = 1;

        /// <summary>Shows no progress bar.</summary>
        [Parameter]
        public SwitchParameter NoProgress { get; set; }

        /// <summary>Runs the map as a background job and returns the job.</summary>
        [Parameter]
        public SwitchParameter AsJob { get; set; }

        /// <summary>Writes one tab-separated line per item to this file: sequence, worker pid, start, duration, attempts, outcome, error.</summary>
        [Parameter]
        [ValidateNotNullOrEmpty]
        public string? JobLogPath { get; set; }

        /// <summary>Resolves the pool, captures <c>$using:</c>, and starts the map.</summary>
        protected override void BeginProcessing()
        {
            if (Pool != null && ThrottleLimit > 0) ThrowTerminatingError(ErrorRecords.ThrottleLimitWithPool(Pool));
            ProcessPoolHandle handle;
            try { handle = Pool ?? PoolRegistry.GetOrCreateDefault(ThrottleLimit > 0 ? ThrottleLimit : (int?)null); }
            catch (BrokenPoolException broken) { ThrowTerminatingError(ErrorRecords.MapFault(broken, PoolRegistry.DefaultName)); return; }
            if (!handle.IsResolved) ThrowTerminatingError(ErrorRecords.NotFound(handle.Name));
            _maxItemBytes = handle.Pool.MaxItemBytes;

            var options = ParameterSetName == MethodSet ? MethodOptions(handle.Pool.HasRemoteHosts) : ScriptOptions();
            options.Ordered = !Unordered;
            options.StreamRecords = true; // a long item's output and streams are written as it produces them, as ForEach-Object -Parallel does
            if (ChunkSize > 0) options.ChunkSize = ChunkSize;
            if (ItemTimeoutSeconds > 0) options.ItemTimeout = TimeSpan.FromSeconds(ItemTimeoutSeconds);
            if (TimeoutSeconds > 0) options.RunTimeout = TimeSpan.FromSeconds(TimeoutSeconds);
            options.RetryCount = RetryCount;
            if (!MyInvocation.ExpectingInput) options.ExpectedCount = 1; // -InputObject is one item, and no input at all runs once with $null, as in ForEach-Object -Parallel

            if (JobLogPath != null)
            {
                string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(JobLogPath);
                try { _log = new JobLogWriter(path); }
                catch (Exception error) when (error is System.IO.IOException || error is UnauthorizedAccessException || error is ArgumentException || error is NotSupportedException)
                {
                    ThrowTerminatingError(ErrorRecords.JobLogFailed(path, error));
                }
            }

            try
            {
                if (AsJob)
                {
                    _job = new PoolMapJob(ParameterSetName == MethodSet ? Method : ScriptBlock.ToString(), handle.Pool, options, ParameterSetName == MethodSet, _log, NoProgress ? null : new ProgressReporter(handle.Name, ProgressReporter.JobInterval));
                    _log = null; // the job owns it now
                }
                else
                {
                    var sink = new CmdletSink(this);
                    var progress = WantsProgress() ? new ProgressReporter(handle.Name) : null;
                    var writer = new ResultWriter(sink, ParameterSetName == MethodSet, _log) { ProgressParentId = progress?.ActivityId ?? -1 };
                    _pump = new MapPump(handle.Pool, options, sink, writer, progress, _stop.Token);
                }
            }
            catch (PoolException fault)
            {
                ThrowTerminatingError(ErrorRecords.MapFault(fault, handle));
            }
        }

        /// <summary>
        /// Encodes the input object and submits it, writing the results that are ready. Without any input (no pipeline,
        /// no -InputObject) PowerShell calls this once with nothing bound: the block then runs once with <c>$_</c> as
        /// <c>$null</c>, as <c>ForEach-Object -Parallel</c> does. An empty pipeline runs nothing.
        /// </summary>
        protected override void ProcessRecord()
        {
            if (InputObject == AutomationNull.Value && !IsInputBound && MyInvocation.ExpectingInput) return;
            if (_timedOut) return; // the rest of the input is dropped, as ForEach-Object -Parallel does after -TimeoutSeconds
            long position = ++_position;
            object? input = InputObject == AutomationNull.Value ? null : InputObject;
            byte[] item;
            try { item = _encode(input); }
            catch (Exception error) when (!(error is PipelineStoppedException))
            {
                WriteError(ErrorRecords.NotSerializable(error, input, position));
                return;
            }
            if (item.Length > _maxItemBytes)
            {
                // Refused here: a worker would reject the frame and exit, and the item would be blamed for it.
                WriteError(ErrorRecords.NotSerializable(new System.IO.InvalidDataException(
                    $"it is {item.Length} bytes once serialized; a worker accepts items of at most {_maxItemBytes} bytes"), input, position));
                return;
            }
            Guard(() =>
            {
                if (_job != null) _job.Submit(item, input, _stop.Token);
                else _pump!.Submit(item, input);
            });
        }

        /// <summary>Ends the input and writes the remaining results (or hands out the job).</summary>
        protected override void EndProcessing()
        {
            if (_job != null)
            {
                _job.CompleteInput();
                JobRepository.Add(_job);
                _jobHandedOut = true;
                WriteObject(_job);
                return;
            }
            if (!_timedOut) Guard(() => _pump!.Finish());
        }

        /// <summary>Ctrl+C or a downstream stop: cancels the map, which stops the workers running it.</summary>
        protected override void StopProcessing()
        {
            _stop.Cancel();
            _pump?.Map.Cancel();
            if (!_jobHandedOut) _job?.Abandon();
        }

        /// <summary>Stops an unfinished map (Select-Object -First, an error downstream) and releases the job log.</summary>
        public void Dispose()
        {
            _pump?.Dispose();
            if (!_jobHandedOut) _job?.Dispose();
            _log?.Dispose();
            _stop.Dispose();
        }

        private bool IsInputBound => MyInvocation.BoundParameters.ContainsKey(nameof(InputObject));

        private MapOptions ScriptOptions()
        {
            string script;
            object?[] usingValues;
            try { (script, usingValues) = UsingCapture.Rewrite(ScriptBlock, SessionState); }
            catch (UsingVariableException missing)
            {
                ThrowTerminatingError(ErrorRecords.UsingNotFound(missing.VariableName, ScriptBlock));
                throw; // not reached: ThrowTerminatingError always throws
            }
            string? location = SessionState.Path.CurrentLocation.Provider.Name == "FileSystem" ? SessionState.Path.CurrentLocation.ProviderPath : null;
            var payload = new ScriptPayload
            {
                Script = script,
                UsingValues = usingValues,
                ArgumentList = ArgumentList,
                Depth = Depth,
                Location = location,
                Environment = MapEnvironment.CaptureForMap(),
                Verbose = Wants("Verbose", "VerbosePreference"),
                Debug = Wants("Debug", "DebugPreference"),
                Spread = Spread,
            };
            int depth = Depth;
            _encode = Spread ? value => PSCodec.Encode(SpreadArguments.Unwrap(value), depth) : value => PSCodec.Encode(value, depth);
            return new MapOptions(ScriptWorkerHost.ScriptKind, payload.Encode());
        }

        /// <summary>A method map; on a pool with remote hosts, the assembly goes with it (<see cref="ShippedFile"/>): those hosts do not have the caller's path.</summary>
        private MapOptions MethodOptions(bool shipAssembly)
        {
            string path = SessionState.Path.GetUnresolvedProviderPathFromPSPath(AssemblyPath);
            if (!System.IO.File.Exists(path)) ThrowTerminatingError(ErrorRecords.AssemblyNotFound(path));
            _encode = Spread ? value => MethodValues.Encode(SpreadArguments.Unwrap(value)) : MethodValues.Encode;
            var payload = MethodPayload.For(path, Method);
            payload.Spread = Spread;
            var options = new MapOptions(MethodPayload.Kind, payload.Encode());
            if (shipAssembly) options.Files.Add(ShippedFile.Read(payload.AssemblyPath));
            return options;
        }

        /// <summary>True when the caller wants a stream the worker does not produce by default: the switch given, or the preference set to show it.</summary>
        private bool Wants(string switchName, string preference)
        {
            if (MyInvocation.BoundParameters.TryGetValue(switchName, out var value)) return value is SwitchParameter s ? s.IsPresent : LanguagePrimitives.IsTrue(value);
            var current = GetVariableValue(preference);
            return LanguagePrimitives.TryConvertTo(current, out ActionPreference action) && action != ActionPreference.SilentlyContinue && action != ActionPreference.Ignore;
        }

        /// <summary>Runs a map step, turning a map fault into its terminating error and a cancellation into a pipeline stop.</summary>
        private void Guard(Action step)
        {
            try
            {
                step();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                throw new PipelineStoppedException();
            }
            catch (Exception fault) when (_pump?.Map.Fault == fault || fault is PoolException && _pump?.Map.IsStopped == true)
            {
                if (_stop.IsCancellationRequested) throw new PipelineStoppedException();
                if (fault is PoolTimeoutException)
                {
                    // As ForEach-Object -Parallel: what finished before the timeout is written, then the timeout is a
                    // non-terminating error (-ErrorAction Stop makes it terminating); the rest of the input is dropped.
                    _timedOut = true;
                    _pump!.DrainStopped();
                    WriteError(ErrorRecords.MapFault(fault, null));
                    return;
                }
                ThrowTerminatingError(ErrorRecords.MapFault(fault, null));
            }
        }

        /// <summary>
        /// Whether to keep a progress bar, decided as PowerShell's own cmdlets decide: progress records go to the host
        /// unless -NoProgress, -ProgressAction or $ProgressPreference silences them (the host then shows them its own
        /// way, or not at all). Skipping the reporter when they would be dropped anyway saves the work of building them.
        /// </summary>
        private bool WantsProgress()
        {
            if (NoProgress || Host?.UI == null) return false;
            object? preference = MyInvocation.BoundParameters.TryGetValue("ProgressAction", out var action) ? action : GetVariableValue("ProgressPreference");
            if (preference is PSObject wrapped) preference = wrapped.BaseObject;
            return !LanguagePrimitives.TryConvertTo(preference, out ActionPreference value) || (value != ActionPreference.SilentlyContinue && value != ActionPreference.Ignore);
        }

        /// <summary>Writes through this cmdlet, so -ErrorAction, -ErrorVariable, -WarningVariable and -Verbose apply. Pipeline thread only.</summary>
        private sealed class CmdletSink : IRecordSink
        {
            private readonly Cmdlet _cmdlet;

            public CmdletSink(Cmdlet cmdlet) => _cmdlet = cmdlet;

            public void WriteOutput(object? value) => _cmdlet.WriteObject(value);
            public void WriteError(ErrorRecord record) => _cmdlet.WriteError(record);
            public void WriteWarning(string message) => _cmdlet.WriteWarning(message);
            public void WriteVerbose(string message) => _cmdlet.WriteVerbose(message);
            public void WriteDebug(string message) => _cmdlet.WriteDebug(message);
            public void WriteInformation(InformationRecord record) => _cmdlet.WriteInformation(record);
            public void WriteProgress(ProgressRecord record) => _cmdlet.WriteProgress(record);
        }
    }
}
