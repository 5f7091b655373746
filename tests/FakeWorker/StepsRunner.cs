using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading;
using ProcessPool.Engine;
using ProcessPool.Engine.Worker;

/// <summary>
/// Runs each item as steps separated by ';' (the item is UTF-8 text): <c>emit:text</c>, <c>emit-many:count:bytes:sleepMs</c>
/// (records of that many bytes, 'x's), <c>sleep:ms</c>, <c>wait-file:path</c> (until it exists), <c>crash-once:path</c>
/// and <c>throw-once:path</c> (exit 42 or throw unless the file exists, creating it first). Output records are UTF-8 text.
/// </summary>
internal sealed class StepsRunner : IPayloadRunner, IMapExecutor
{
    public const string Kind = "steps";

    public void Initialize(byte[] setup) { }

    public IMapExecutor Define(byte[] payload) => this;

    public void RunChunk(IReadOnlyList<ArraySegment<byte>> items, ChunkSink sink)
    {
        for (int i = 0; i < items.Count; i++)
        {
            sink.BeginItem(i);
            try
            {
                foreach (var step in Encoding.UTF8.GetString(items[i].Array!, items[i].Offset, items[i].Count).Split(';'))
                    Run(step, sink);
            }
            catch (Exception error)
            {
                sink.FailItem(error);
                continue;
            }
            sink.EndItem();
        }
    }

    private static void Run(string step, ChunkSink sink)
    {
        string[] parts = step.Split(':', 2);
        string argument = parts.Length > 1 ? parts[1] : "";
        switch (parts[0])
        {
            case "emit":
                sink.Emit(RecordKind.Output, Encoding.UTF8.GetBytes(argument));
                break;
            case "emit-many":
                var numbers = argument.Split(':');
                int count = int.Parse(numbers[0]), bytes = int.Parse(numbers[1]), pause = int.Parse(numbers[2]);
                for (int n = 0; n < count; n++)
                {
                    var record = Encoding.UTF8.GetBytes(n.ToString("D6"));
                    Array.Resize(ref record, Math.Max(record.Length, bytes));
                    sink.Emit(RecordKind.Output, record);
                    if (pause > 0) Thread.Sleep(pause);
                }
                break;
            case "sleep":
                Thread.Sleep(int.Parse(argument));
                break;
            case "wait-file":
                while (!File.Exists(argument)) Thread.Sleep(10);
                break;
            case "crash-once":
                if (!File.Exists(argument))
                {
                    File.WriteAllText(argument, "");
                    Environment.Exit(42);
                }
                break;
            case "throw-once":
                if (!File.Exists(argument))
                {
                    File.WriteAllText(argument, "");
                    throw new InvalidOperationException("thrown once");
                }
                break;
            case "":
                break;
            default:
                throw new ArgumentException($"Unknown step '{step}'.");
        }
    }

    public void Dispose() { }
}
