using System;
using System.Collections;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;
using ProcessPool.Engine.Methods;

namespace ProcessPool.Commands
{
    /// <summary>
    /// Lets <c>-Pool</c> take a pool object or a pool's name. An unknown name becomes an unresolved handle, so the
    /// command reports it with its own PoolNotFound error rather than a generic binding failure.
    /// </summary>
    internal sealed class PoolTransformationAttribute : ArgumentTransformationAttribute
    {
        public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
        {
            object value = inputData is PSObject pso ? pso.BaseObject : inputData;
            if (value is object[] many) return many.Select(Resolve).ToArray();
            return Resolve(inputData);
        }

        private static object Resolve(object input)
        {
            object value = input is PSObject pso ? pso.BaseObject : input;
            if (value is not string name) return input;
            if (PoolRegistry.TryParseDefaultName(name, out int size)) return PoolRegistry.GetOrCreateDefault(size);
            return PoolRegistry.Find(name) ?? ProcessPoolHandle.Unresolved(name);
        }
    }

    /// <summary>Tab completion of pool names for <c>-Pool</c> and <c>-Name</c>.</summary>
    public sealed class PoolNameCompleter : IArgumentCompleter
    {
        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            string prefix = (wordToComplete ?? "").Trim('\'', '"');
            var names = PoolRegistry.All().Select(p => p.Name);
            if (!names.Contains(PoolRegistry.DefaultName, StringComparer.OrdinalIgnoreCase)) names = names.Concat(new[] { PoolRegistry.DefaultName });
            return names
                .Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(n => new CompletionResult(Quote(n), n, CompletionResultType.ParameterValue, n));
        }

        internal static string Quote(string text) =>
            text.IndexOfAny(new[] { ' ', '\'', '"', '$', '`', ';', '(', ')', '{', '}', ',', '&', '|', '@' }) < 0 ? text : "'" + text.Replace("'", "''") + "'";
    }

    /// <summary>
    /// Tab completion for <c>-Method</c>: the public static methods of the assembly given to <c>-AssemblyPath</c>, read
    /// from its metadata (<see cref="MethodCatalog"/>) so the file is neither loaded nor locked.
    /// </summary>
    public sealed class MethodNameCompleter : IArgumentCompleter
    {
        /// <inheritdoc />
        public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete,
            CommandAst commandAst, IDictionary fakeBoundParameters)
        {
            if (fakeBoundParameters?["AssemblyPath"] is not object assembly) return Array.Empty<CompletionResult>();
            string prefix = (wordToComplete ?? "").Trim('\'', '"');
            try
            {
                string path = Resolve(Convert.ToString(assembly is PSObject pso ? pso.BaseObject : assembly) ?? "");
                return MethodCatalog.ListStaticMethods(path)
                    .Where(m => m.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || m.Substring(m.IndexOf("::", StringComparison.Ordinal) + 2).StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                    .Select(m => new CompletionResult("'" + m + "'", m, CompletionResultType.ParameterValue, m))
                    .ToList();
            }
            catch (Exception)
            {
                return Array.Empty<CompletionResult>(); // completion never fails loudly: a missing or broken file simply offers nothing
            }
        }

        /// <summary>Resolves a path against the session's current location (which is not the process's).</summary>
        private static string Resolve(string path)
        {
            path = path.Trim('\'', '"');
            try
            {
                using var ps = PowerShell.Create(RunspaceMode.CurrentRunspace);
                ps.AddScript("$ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($args[0])").AddArgument(path);
                var result = ps.Invoke();
                if (result.Count == 1 && result[0]?.BaseObject is string resolved) return resolved;
            }
            catch (Exception) { /* no usable runspace: fall back to the process's directory */ }
            return Path.GetFullPath(path);
        }
    }
}
