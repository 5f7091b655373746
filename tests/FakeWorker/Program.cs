// A worker that breaks the protocol on purpose, so tests can show the pool refuses it cleanly.
// It writes raw bytes itself (no engine code), exactly as a corrupted or foreign program would.
using System;
using System.IO;
using System.Threading;

var stdout = Console.OpenStandardOutput();
var stdin = Console.OpenStandardInput();
string mode = args.Length > 0 ? args[0] : "";
const int ProtocolVersion = 2; // the engine's ProtocolConstants.Version: modes that break the protocol after a good hello

void Frame(byte type, byte[] body, int? declaredLength = null)
{
    int length = declaredLength ?? body.Length;
    stdout.Write(new byte[] { 0xB7, type, (byte)length, (byte)(length >> 8), (byte)(length >> 16), (byte)(length >> 24) });
    stdout.Write(body);
    stdout.Flush();
}

byte[] Hello(int version)
{
    var body = new MemoryStream();
    body.Write("PPOL"u8);
    body.Write(BitConverter.GetBytes(version));
    body.Write(BitConverter.GetBytes(Environment.ProcessId));
    body.Write(BitConverter.GetBytes(0));      // no capabilities
    body.Write(BitConverter.GetBytes(4));
    body.Write("fake"u8);
    return body.ToArray();
}

void ReadSetupThenReady()
{
    var header = new byte[6];
    stdin.ReadExactly(header);
    int length = header[2] | header[3] << 8 | header[4] << 16 | header[5] << 24;
    stdin.ReadExactly(new byte[length]);
    Frame(0x02, Array.Empty<byte>());
}

switch (mode)
{
    case "garbage":            // a program that is not a worker at all
        stdout.Write("Welcome to some other program\n"u8);
        stdout.Flush();
        break;
    case "bad-version":
        Frame(0x01, Hello(99));
        break;
    case "silent":             // never says hello
        Thread.Sleep(Timeout.Infinite);
        break;
    case "garbage-after-ready":
        Frame(0x01, Hello(ProtocolVersion));
        ReadSetupThenReady();
        stdin.ReadExactly(new byte[6]); // wait for work to arrive
        stdout.Write("oops, not a frame\n"u8);
        stdout.Flush();
        break;
    case "truncated":
        Frame(0x01, Hello(ProtocolVersion));
        ReadSetupThenReady();
        stdin.ReadExactly(new byte[6]);
        Frame(0x04, new byte[10], declaredLength: 100); // promises 100 bytes, sends 10, exits
        break;
    case "oversized":
        Frame(0x01, Hello(ProtocolVersion));
        ReadSetupThenReady();
        stdin.ReadExactly(new byte[6]);
        Frame(0x04, Array.Empty<byte>(), declaredLength: int.MaxValue);
        Thread.Sleep(Timeout.Infinite); // the pool must not wait for 2 GB that never come
        break;
}

// "exit-unless <path>": exits with code 7 before its hello until <path> exists, then is a real method worker, so
// a test can break a pool with a cause that passes and show the pool recovers.
if (mode == "exit-unless")
{
    if (!File.Exists(args[1])) return 7;
    return ProcessPool.Engine.Worker.WorkerMain.RunMethodWorker();
}

// "steps": a real worker whose "steps" payload runs each item as a script of steps, so tests can make an item
// emit, wait and die at chosen moments (see StepsRunner).
if (mode == "steps")
{
    return ProcessPool.Engine.Worker.WorkerMain.Run(new System.Collections.Generic.Dictionary<string, Func<ProcessPool.Engine.Worker.IPayloadRunner>>
    {
        [StepsRunner.Kind] = () => new StepsRunner(),
    });
}

// "parent <worker.dll>": a parent that starts a pool, prints its workers' pids and waits to be killed,
// so a test can show the workers do not outlive it.
if (mode == "parent")
{
    var launch = new ProcessPool.Engine.WorkerLaunch(args[2], new[] { "exec", args[1] });
    using var pool = new ProcessPool.Engine.WorkerPool(new ProcessPool.Engine.PoolOptions(launch) { Size = 2 });
    pool.WaitForWorkers(TimeSpan.FromSeconds(60));
    Console.WriteLine(string.Join(",", pool.GetWorkerProcessIds()));
    Console.Out.Flush();
    Thread.Sleep(Timeout.Infinite);
}

return 0;
