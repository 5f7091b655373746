using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Management.Automation;
using ProcessPool.Commands.Codec;

namespace ProcessPool.Commands.Worker
{
    /// <summary>A script pool's per-worker setup, sent once to every worker as CliXml: modules, functions, variables, an initialization script, a finalization script.</summary>
    internal sealed class ScriptSetup
    {
        /// <summary>Setup values are small and sent once: deep enough for hashtables of arrays of records.</summary>
        private const int Depth = 4;

        public List<string> Modules { get; } = new List<string>();
        public Dictionary<string, string> Functions { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        public Dictionary<string, object?> Variables { get; } = new Dictionary<string, object?>(StringComparer.OrdinalIgnoreCase);
        public string? InitializationScript { get; set; }
        public object?[] ArgumentList { get; set; } = Array.Empty<object?>();
        /// <summary>Run at global scope when the worker is retired cleanly (idle time, task limit, pool removal).</summary>
        public string? FinalizationScript { get; set; }

        private bool IsEmpty => Modules.Count == 0 && Functions.Count == 0 && Variables.Count == 0 && string.IsNullOrWhiteSpace(InitializationScript) && string.IsNullOrWhiteSpace(FinalizationScript);

        /// <summary>An empty setup (the default pool's) is sent as no bytes: nothing to serialize on the way to a worker's start.</summary>
        public byte[] Encode() => IsEmpty ? Array.Empty<byte>() : PSCodec.ToCliXmlBytes(new Hashtable
        {
            ["Modules"] = Modules.ToArray(),
            ["Functions"] = new Hashtable(Functions, StringComparer.OrdinalIgnoreCase),
            ["Variables"] = new Hashtable(Variables, StringComparer.OrdinalIgnoreCase),
            ["InitializationScript"] = InitializationScript,
            ["ArgumentList"] = ArgumentList,
            ["FinalizationScript"] = FinalizationScript,
        }, Depth);

        public static ScriptSetup Decode(byte[] data)
        {
            var setup = new ScriptSetup();
            if (data.Length == 0) return setup;
            var table = Wire.Table(PSCodec.FromCliXmlBytes(data));
            foreach (var name in Wire.List(table["Modules"])) setup.Modules.Add(Wire.Text(name));
            foreach (DictionaryEntry entry in Wire.Table(table["Functions"])) setup.Functions[Wire.Text(entry.Key)] = Wire.Text(entry.Value);
            foreach (DictionaryEntry entry in Wire.Table(table["Variables"])) setup.Variables[Wire.Text(entry.Key)] = entry.Value;
            setup.InitializationScript = table["InitializationScript"] is object script ? Wire.Text(script) : null;
            setup.ArgumentList = Wire.List(table["ArgumentList"]).ToArray();
            setup.FinalizationScript = table["FinalizationScript"] is object finalization ? Wire.Text(finalization) : null;
            return setup;
        }
    }

    /// <summary>
    /// One map's script, as the caller sends it: the text with <c>$using:</c> already rewritten to plain variables, their
    /// values, the argument list, the serialization depth, the caller's location and environment, and which optional
    /// streams it wants.
    /// </summary>
    internal sealed class ScriptPayload
    {
        public string Script { get; set; } = "";
        public object?[] UsingValues { get; set; } = Array.Empty<object?>();
        public object?[] ArgumentList { get; set; } = Array.Empty<object?>();
        public int Depth { get; set; } = 1;
        public string? Location { get; set; }
        /// <summary>The caller's environment variables when the map started (see <see cref="MapEnvironment"/>); null runs with the worker's own.</summary>
        public IDictionary? Environment { get; set; }
        public bool Verbose { get; set; }
        public bool Debug { get; set; }
        /// <summary><c>-Spread</c>: each item is splatted into the block's parameters (see <see cref="SpreadArguments"/>).</summary>
        public bool Spread { get; set; }

        /// <summary>The variable that stands for the <paramref name="index"/>-th distinct <c>$using:</c> variable in the rewritten script.</summary>
        public static string UsingVariableName(int index) => "__ppUsing" + index.ToString(CultureInfo.InvariantCulture);

        /// <summary>Values travel as the map's items do, but never shallower than 2, so a hashtable of arrays arrives intact.</summary>
        public byte[] Encode() => PSCodec.ToCliXmlBytes(new Hashtable
        {
            ["Script"] = Script,
            ["UsingValues"] = UsingValues,
            ["ArgumentList"] = ArgumentList,
            ["Depth"] = Depth,
            ["Location"] = Location,
            ["Environment"] = Environment,
            ["Verbose"] = Verbose,
            ["Debug"] = Debug,
            ["Spread"] = Spread,
        }, Math.Max(2, Depth) + 1);

        public static ScriptPayload Decode(byte[] data)
        {
            var table = Wire.Table(PSCodec.FromCliXmlBytes(data));
            return new ScriptPayload
            {
                Script = Wire.Text(table["Script"]),
                UsingValues = Wire.List(table["UsingValues"]).ToArray(),
                ArgumentList = Wire.List(table["ArgumentList"]).ToArray(),
                Depth = LanguagePrimitives.ConvertTo<int>(table["Depth"]),
                Location = table["Location"] is object location ? Wire.Text(location) : null,
                Environment = Wire.Unwrap(table["Environment"]) as IDictionary,
                Verbose = LanguagePrimitives.IsTrue(table["Verbose"]),
                Debug = LanguagePrimitives.IsTrue(table["Debug"]),
                Spread = LanguagePrimitives.IsTrue(table["Spread"]),
            };
        }
    }

    /// <summary>Reading deserialized CliXml values, which arrive wrapped in PSObjects and with arrays as lists.</summary>
    internal static class Wire
    {
        public static object? Unwrap(object? value) => value is PSObject pso ? pso.BaseObject : value;

        public static string Text(object? value) => Convert.ToString(Unwrap(value), CultureInfo.InvariantCulture) ?? "";

        public static IDictionary Table(object? value) => Unwrap(value) as IDictionary ?? new Hashtable();

        public static List<object?> List(object? value)
        {
            var list = new List<object?>();
            if (Unwrap(value) is IEnumerable items && Unwrap(value) is not string)
                foreach (object? item in items) list.Add(item);
            return list;
        }
    }
}
