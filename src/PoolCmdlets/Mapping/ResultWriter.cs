using System;
using System.Collections;
using System.Management.Automation;
using ProcessPool.Commands.Codec;
using ProcessPool.Engine;
using ProcessPool.Engine.Diagnostics;

namespace ProcessPool.Commands.Mapping
{
    /// <summary>
    /// Where a map's records go: the cmdlet's own Write* methods (on the pipeline thread) or a job's streams. The
    /// narrow interface between the map and PowerShell's output.
    /// </summary>
    internal interface IRecordSink
    {
        void WriteOutput(object? value);
        void WriteError(ErrorRecord record);
        void WriteWarning(string message);
        void WriteVerbose(string message);
        void WriteDebug(string message);
        void WriteInformation(InformationRecord record);
        void WriteProgress(ProgressRecord record);
    }

    /// <summary>
    /// Turns each <see cref="ItemResult"/> into PowerShell records, in the order the item emitted them, then the
    /// item's own failure (with the input object as target), and logs it to the job log. A partial result (records of
    /// an item still running) is written the same way; only the item's final result is logged and can carry a
    /// failure. Used by one thread at a time.
    /// </summary>
    internal sealed class ResultWriter
    {
        private readonly IRecordSink _sink;
        private readonly bool _methodResults;
        private readonly JobLogWriter? _log;

        public ResultWriter(IRecordSink sink, bool methodResults, JobLogWriter? log)
        {
            _sink = sink;
            _methodResults = methodResults;
            _log = log;
        }

        /// <summary>
        /// The map's own progress activity, or -1: an item's top-level progress records become its children, so the
        /// host shows them under the map's bar (<c>ForEach-Object -Parallel</c>, which has no bar of its own, passes
        /// them on unchanged). Records that name their own parent keep it.
        /// </summary>
        public int ProgressParentId { get; set; } = -1;

        /// <summary>The first item failure written (null while every item succeeded); a job that has one ends Failed with it as the reason.</summary>
        public Exception? FirstFailure { get; private set; }

        public void Write(ItemResult result)
        {
            if (!result.IsPartial)
            {
                ItemText.Name(result.Error, result.Tag); // "Item #3 (3) ran longer than ...", in the record and in the job log
                _log?.Write(result);
            }
            foreach (var record in result.Records)
            {
                var data = new ArraySegment<byte>(record.Data);
                switch (record.Kind)
                {
                    case RecordKind.Output:
                        _sink.WriteOutput(_methodResults ? MethodValues.Decode(record.Data) : PSCodec.Decode(data));
                        break;
                    case RecordKind.Error:
                        _sink.WriteError(ErrorRecords.WrittenByItem(PSCodec.Decode(data), result.Tag));
                        break;
                    case RecordKind.Warning:
                        _sink.WriteWarning(Text(data));
                        break;
                    case RecordKind.Verbose:
                        _sink.WriteVerbose(Text(data));
                        break;
                    case RecordKind.Debug:
                        _sink.WriteDebug(Text(data));
                        break;
                    case RecordKind.Information:
                        _sink.WriteInformation(ToInformation(PSCodec.Decode(data)));
                        break;
                    case RecordKind.Progress:
                        if (ToProgress(PSCodec.Decode(data)) is ProgressRecord progress)
                        {
                            if (progress.ParentActivityId < 0 && ProgressParentId >= 0 && progress.ActivityId != ProgressParentId) progress.ParentActivityId = ProgressParentId;
                            _sink.WriteProgress(progress);
                        }
                        break;
                }
            }
            if (result.Error != null)
            {
                FirstFailure ??= result.Error;
                _sink.WriteError(ErrorRecords.ItemFailed(result.Error, result.Tag));
            }
        }

        private static string Text(ArraySegment<byte> data) => Convert.ToString(PSCodec.Decode(data)) ?? "";

        /// <summary>An information record as the worker wrote it; <c>Write-Host</c> keeps its message, colours and PSHOST tag, so the host shows it.</summary>
        private static InformationRecord ToInformation(object? decoded)
        {
            if (Unwrap(decoded) is InformationRecord live) return live;
            var remote = decoded as PSObject;
            object? data = remote?.Properties["MessageData"]?.Value;
            if (data is PSObject message && message.TypeNames.Contains("Deserialized.System.Management.Automation.HostInformationMessage"))
            {
                data = new HostInformationMessage
                {
                    Message = message.Properties["Message"]?.Value?.ToString() ?? "",
                    NoNewLine = LanguagePrimitives.IsTrue(Unwrap(message.Properties["NoNewLine"]?.Value)),
                    ForegroundColor = Color(message.Properties["ForegroundColor"]?.Value),
                    BackgroundColor = Color(message.Properties["BackgroundColor"]?.Value),
                };
            }
            var record = new InformationRecord(Unwrap(data), remote?.Properties["Source"]?.Value?.ToString() ?? "");
            if (Unwrap(remote?.Properties["Tags"]?.Value) is IEnumerable tags)
                foreach (object? tag in tags)
                    if (tag != null) record.Tags.Add(tag.ToString()!);
            return record;
        }

        private static ProgressRecord? ToProgress(object? decoded)
        {
            if (Unwrap(decoded) is ProgressRecord live) return live;
            if (decoded is not PSObject remote) return null;
            int id = LanguagePrimitives.ConvertTo<int>(Unwrap(remote.Properties["ActivityId"]?.Value));
            string activity = remote.Properties["Activity"]?.Value?.ToString() ?? "";
            string status = remote.Properties["StatusDescription"]?.Value?.ToString() ?? "";
            if (activity.Length == 0 || status.Length == 0) return null;
            return new ProgressRecord(id, activity, status)
            {
                PercentComplete = LanguagePrimitives.ConvertTo<int>(Unwrap(remote.Properties["PercentComplete"]?.Value)),
                SecondsRemaining = LanguagePrimitives.ConvertTo<int>(Unwrap(remote.Properties["SecondsRemaining"]?.Value)),
                ParentActivityId = LanguagePrimitives.ConvertTo<int>(Unwrap(remote.Properties["ParentActivityId"]?.Value)),
                CurrentOperation = remote.Properties["CurrentOperation"]?.Value?.ToString(),
                RecordType = LanguagePrimitives.TryConvertTo(Unwrap(remote.Properties["RecordType"]?.Value), out ProgressRecordType type) ? type : ProgressRecordType.Processing,
            };
        }

        private static ConsoleColor? Color(object? value)
        {
            value = Unwrap(value);
            if (value == null) return null;
            return LanguagePrimitives.TryConvertTo(value, out ConsoleColor color) ? color : (ConsoleColor?)null;
        }

        private static object? Unwrap(object? value) => value is PSObject pso ? pso.BaseObject : value;
    }
}
