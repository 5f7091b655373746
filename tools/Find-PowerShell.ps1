# Where to find a PowerShell to start as a child process (the Pester suite, a test's child session), for build.ps1 and
# the tests; tests/PesterRunner follows the same rule in C#. pwsh on PATH if there is one, else the pinned .NET tool
# (.config/dotnet-tools.json), restored first. Never the current process image: under the .NET tool that is dotnet.

$script:RepositoryRoot = (Resolve-Path (Join-Path $PSScriptRoot '..')).ProviderPath

# The command line prefix that starts PowerShell: @('/path/to/pwsh') or @('dotnet', 'tool', 'run', 'pwsh').
function Find-PowerShell {
    $onPath = Get-Command -Name pwsh -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
    if ($onPath) { return , @($onPath.Source) }
    Push-Location -LiteralPath $script:RepositoryRoot
    try {
        $restore = & dotnet tool restore 2>&1
        if ($LASTEXITCODE -ne 0) { throw "pwsh is not on PATH and 'dotnet tool restore' failed: $($restore -join [Environment]::NewLine)" }
    }
    finally { Pop-Location }
    return , @('dotnet', 'tool', 'run', 'pwsh')
}

# Runs PowerShell with the given arguments and returns its output; $LASTEXITCODE is the child's. It runs from the
# repository root because 'dotnet tool run' finds the tool manifest from the working directory.
function Invoke-PowerShell([string[]] $ArgumentList) {
    $command = Find-PowerShell
    Push-Location -LiteralPath $script:RepositoryRoot
    try {
        if ($command.Count -gt 1) { & $command[0] $command[1..($command.Count - 1)] @ArgumentList }
        else { & $command[0] @ArgumentList }
    }
    finally { Pop-Location }
}
