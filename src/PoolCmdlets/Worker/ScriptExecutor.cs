using System;
using System.Collections.Generic;
using System.Management.Automation;
using System.Management.Automation.Language;
using System.Text;
using ProcessPool.Commands.Codec;
using ProcessPool.Engine;
using ProcessPool.Engine.Worker;

namespace ProcessPool.Commands.Worker
{
    /// <summary>
    /// One map's script block inside a worker. A chunk runs as ONE PowerShell invocation of a small driver script (a
    /// pipeline per item would cost tens of microseconds more per item): the driver walks the chunk through
    /// <see cref="ChunkContext"/>, whose enumerator ends one item and begins the next, and pipes each item into the
    /// user's block so <c>$_</c>, <c>process {}</c> and <c>param()</c> behave as in <c>ForEach-Object</c>.
    /// Output and every stream are captured by DataAdded handlers, which PowerShell raises synchronously on this
    /// (the pipeline) thread, so each record lands on the item that is running. There is no try/catch around the
    /// user's block, so a statement-terminating error is reported and the block goes on, as it would locally; a
    /// terminating error (<c>throw</c>) ends the driver, the item fails, and the driver is started again on the rest.
    /// </summary>
    internal sealed class ScriptExecutor : IMapExecutor
    {
        private readonly ScriptRunner _runner;
        private readonly ChunkContext _context;
        private readonly PowerShell _ps;
        /// <summary>Invoke-Command itself, not whatever a map's setup may have named so.</summary>
        private static readonly CmdletInfo InvokeCommand = new CmdletInfo("Invoke-Command", typeof(Microsoft.PowerShell.Commands.InvokeCommandCommand));
        /// <summary>Of object, not PSObject: PowerShell then hands over what the script wrote, unwrapped, so the codec's fast path needs no member lookup.</summary>
        private readonly PSDataCollection<object> _output = new PSDataCollection<object>();
        private readonly string? _location;
        private readonly Dictionary<string, string>? _environment;
        private readonly int _depth;

        public ScriptExecutor(ScriptRunner runner, ScriptPayload payload)
        {
            _runner = runner;
            _depth = payload.Depth;
            _location = payload.Location;
            _environment = runner.ProcessState.ForMap(payload.Environment);
            var ast = Parse(payload.Script);
            _context = new ChunkContext(runner.Bind(payload.Script), payload.ArgumentList, payload.UsingValues, runner.Runspace.SessionStateProxy.PSVariable);

            _ps = PowerShell.Create();
            _ps.Runspace = runner.Runspace;
            // The driver runs as Invoke-Command's block, in a scope of its own as `& $driver $context` would. Not as a
            // script text such as `& $args[0] $args[1]`: PowerShell parses and compiles a script command's text anew on
            // every Invoke, i.e. per chunk, which cost ~65 µs a chunk and kept hundreds of its parser's and compiler's
            // methods hot enough for every worker's runtime to recompile them. Invoked without input, or Invoke-Command
            // would first try to make the driver a steppable pipeline.
            _ps.AddCommand(InvokeCommand)
               .AddParameter("ScriptBlock", runner.Bind(Driver(payload, NeedsPipeline(ast))))
               .AddParameter("ArgumentList", new object[] { _context });

            _output.DataAdded += (_, e) => _context.Emit(RecordKind.Output, PSCodec.Encode(_output[e.Index], _depth));
            var streams = _ps.Streams;
            streams.Error.DataAdded += (_, e) => _context.Emit(RecordKind.Error, PSCodec.Encode(streams.Error[e.Index], 1));
            streams.Warning.DataAdded += (_, e) => _context.Emit(RecordKind.Warning, PSCodec.Encode(streams.Warning[e.Index].Message, 1));
            streams.Verbose.DataAdded += (_, e) => _context.Emit(RecordKind.Verbose, PSCodec.Encode(streams.Verbose[e.Index].Message, 1));
            streams.Debug.DataAdded += (_, e) => _context.Emit(RecordKind.Debug, PSCodec.Encode(streams.Debug[e.Index].Message, 1));
            streams.Information.DataAdded += (_, e) => _context.Emit(RecordKind.Information, PSCodec.Encode(streams.Information[e.Index], 2));
            streams.Progress.DataAdded += (_, e) => _context.Emit(RecordKind.Progress, PSCodec.Encode(streams.Progress[e.Index], 1));
        }

        /// <summary>Parses the script, so a syntax error fails the map's definition with the parser's own message.</summary>
        private static ScriptBlockAst Parse(string script)
        {
            var ast = Parser.ParseInput(script, out _, out var errors);
            if (errors.Length > 0) throw new ParseException(errors);
            return ast;
        }

        /// <summary>A block with <c>begin</c>/<c>process</c>/<c>end</c> blocks needs its item piped in; a plain block just reads <c>$_</c>, which is much cheaper.</summary>
        private static bool NeedsPipeline(ScriptBlockAst ast) =>
            ast.BeginBlock != null || ast.ProcessBlock != null || ast.DynamicParamBlock != null || (ast.EndBlock != null && !ast.EndBlock.Unnamed);

        /// <summary>
        /// The driver: <c>$using:</c> stand-ins and preferences live in its local scope (the user's block is a child
        /// scope and sees them; nothing reaches global scope). The item is the driver's <c>$_</c>, which a plain block
        /// sees; a block with a <c>process {}</c> block gets it piped in (<c>,</c> keeps an array item whole). The
        /// one-pass <c>do</c> loop catches a stray <c>break</c> or <c>continue</c>, which would otherwise end the chunk.
        /// Each item runs in its own scope, so one item's variables never reach the next.
        /// The driver's own variables are private, so the user's block does not see them; and the chunk's enumerator
        /// advances only when called from the driver's scope (<see cref="ChunkContext.MoveNext"/>), so an item that digs
        /// it out anyway (<c>Get-Variable -Scope</c>) cannot skip the next item.
        /// </summary>
        private static string Driver(ScriptPayload payload, bool pipeline)
        {
            var text = new StringBuilder("$private:" + ChunkContext.DriverVariable + " = $args[0]\n$private:__ppBlock = $__pp.Block\n$private:__ppArgs = $__pp.Arguments\n");
            for (int i = 0; i < payload.UsingValues.Length; i++)
                text.Append("${").Append(ScriptPayload.UsingVariableName(i)).Append("} = $__pp.Using[").Append(i).Append("]\n");
            if (payload.Verbose) text.Append("$VerbosePreference = 'Continue'\n");
            if (payload.Debug) text.Append("$DebugPreference = 'Continue'\n");
            // -Spread: the item is splatted into the block (SpreadArguments) before the map's own arguments; $_ is still
            // the whole item. Splatting an empty -ArgumentList still costs a parameter binding per item: left out.
            string prepare = "", splat = "";
            if (payload.Spread)
            {
                text.Append("$__ppSpread = [").Append(typeof(SpreadArguments).FullName).Append("]\n");
                prepare = "$__ppItemArgs = $__ppSpread::For($_); ";
                splat = " @__ppItemArgs";
            }
            if (payload.ArgumentList.Length > 0) splat += " @__ppArgs";
            text.Append("foreach ($_ in $__pp) { do { ").Append(prepare).Append(pipeline ? ",$_ | " : "")
                .Append("& $__ppBlock").Append(splat).Append(" } while ($false) }\n");
            return text.ToString();
        }

        public void RunChunk(IReadOnlyList<ArraySegment<byte>> items, ChunkSink sink)
        {
            _runner.EnterLocation(_location);
            MapEnvironment.Enter(_environment);
            try
            {
                _context.Start(items, sink);
                // Each pass runs until the chunk ends or an item's terminating error ends the driver; every pass moves
                // the enumerator at least one step, so the loop ends.
                while (_context.HasWork)
                {
                    try
                    {
                        _ps.Invoke(null, _output, null);
                    }
                    catch (Exception error) when (_context.InItem)
                    {
                        _context.FailCurrent(error);
                    }
                    finally
                    {
                        _output.Clear();
                        _ps.Streams.ClearStreams();
                    }
                }
                _context.Finish();
            }
            finally
            {
                // Chunks of other maps may run next in this worker: none of them may see what this one set.
                _runner.ProcessState.Leave();
            }
        }

        public void Dispose()
        {
            _ps.Dispose();
            _runner.Released();
        }
    }
}
