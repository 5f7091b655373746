using System;
using System.Collections;
using System.Collections.Generic;
using System.ComponentModel;
using System.Management.Automation;
using ProcessPool.Commands.Codec;
using ProcessPool.Engine;
using ProcessPool.Engine.Codec;
using ProcessPool.Engine.Worker;

namespace ProcessPool.Commands.Worker
{
    /// <summary>
    /// The driver script's view of a chunk (public only because PowerShell calls it). Enumerating it walks the
    /// chunk: each step ends the item before (<see cref="ChunkSink.EndItem"/>) and begins the next
    /// (<see cref="ChunkSink.BeginItem"/>), decoding it as the script's <c>$_</c>. Used on the worker's main thread only.
    /// </summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public sealed class ChunkContext : IEnumerable, IEnumerator
    {
        /// <summary>The driver's private variable that holds this context; its presence in the calling scope tells the driver from user code.</summary>
        internal const string DriverVariable = "__pp";

        private readonly PSVariableIntrinsics _variables;
        private IReadOnlyList<ArraySegment<byte>> _items = Array.Empty<ArraySegment<byte>>();
        private ChunkSink? _sink;
        private int _next;
        private object? _current;

        internal ChunkContext(ScriptBlock block, object?[] arguments, object?[] usingValues, PSVariableIntrinsics variables)
        {
            Block = block;
            Arguments = arguments;
            Using = usingValues;
            _variables = variables;
        }

        /// <summary>The user's script block.</summary>
        public ScriptBlock Block { get; }

        /// <summary>The map's <c>-ArgumentList</c>, splatted into the block's <c>param()</c>.</summary>
        public object?[] Arguments { get; }

        /// <summary>The values of the block's <c>$using:</c> variables, in the order of their stand-ins.</summary>
        public object?[] Using { get; }

        /// <summary>The item now running.</summary>
        public object? Current => _current;

        internal bool InItem { get; private set; }

        internal bool HasWork => InItem || _next < _items.Count;

        internal void Start(IReadOnlyList<ArraySegment<byte>> items, ChunkSink sink)
        {
            _items = items;
            _sink = sink;
            _next = 0;
            InItem = false;
        }

        /// <summary>
        /// Ends the item that ran and begins the next; an item that cannot be decoded fails alone. Only the driver's
        /// <c>foreach</c> may call it: the call must come from the scope whose private <see cref="DriverVariable"/> holds
        /// this context, a scope that user code (always a child scope) never runs in.
        /// </summary>
        /// <exception cref="InvalidOperationException">Called from anywhere but the driver's scope.</exception>
        public bool MoveNext()
        {
            if (!ReferenceEquals(_variables.GetValue(DriverVariable), this))
                throw new InvalidOperationException("The items of a chunk are walked by the ProcessPool driver only; an item cannot move to the next one.");
            EndCurrent();
            while (_next < _items.Count)
            {
                int index = _next++;
                _sink!.BeginItem(index);
                InItem = true;
                try
                {
                    _current = PSCodec.DecodeItem(_items[index]);
                    return true;
                }
                catch (Exception error)
                {
                    FailCurrent(error);
                }
            }
            _current = null;
            return false;
        }

        /// <summary>Not supported: a chunk is walked once.</summary>
        public void Reset() => throw new NotSupportedException();

        /// <summary>The context is its own enumerator, so a driver started again after a failed item goes on where it stopped.</summary>
        public IEnumerator GetEnumerator() => this;

        /// <summary>Adds a record to the running item; records outside any item (none are expected) are dropped.</summary>
        internal void Emit(RecordKind kind, byte[] data)
        {
            if (InItem) _sink!.Emit(kind, data);
        }

        /// <summary>
        /// Ends the running item as failed by a terminating error: the exception's type and message, the script's
        /// stack, and the ErrorRecord (CliXml) as detail. <c>exit</c> in a block just ends its item.
        /// </summary>
        internal void FailCurrent(Exception error)
        {
            InItem = false;
            _current = null;
            if (error is ExitException)
            {
                _sink!.EndItem();
                return;
            }
            var record = (error as IContainsErrorRecord)?.ErrorRecord;
            var exception = record?.Exception ?? error;
            byte[]? detail = null;
            if (record != null)
            {
                try { detail = PSCodec.Encode(record, 1); }
                catch (Exception) { /* an error record that cannot be serialized still fails its item */ }
            }
            string? stack = string.IsNullOrEmpty(record?.ScriptStackTrace) ? exception.StackTrace : record!.ScriptStackTrace;
            _sink!.FailItem(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, stack, detail);
        }

        internal void Finish()
        {
            EndCurrent();
            _items = Array.Empty<ArraySegment<byte>>();
            _sink = null;
        }

        private void EndCurrent()
        {
            if (!InItem) return;
            InItem = false;
            _current = null;
            _sink!.EndItem();
        }
    }
}
