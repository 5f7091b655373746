#Requires -Version 5.1
<#
.SYNOPSIS
    The one build entry of ProcessPool.
.DESCRIPTION
    Build: compiles the solution in the given configuration.
    Test:  builds, then runs the whole test suite (dotnet test at the repository root).
.EXAMPLE
    ./build.ps1 -Task Test
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Test')]
    [string] $Task = 'Build',

    [ValidateSet('Debug', 'Release')]
    [string] $Configuration = 'Release'
)

$ErrorActionPreference = 'Stop'
Set-Location $PSScriptRoot

function Invoke-Dotnet {
    & dotnet @args
    if ($LASTEXITCODE -ne 0) { throw "dotnet $($args -join ' ') failed with exit code $LASTEXITCODE" }
}

switch ($Task) {
    'Build' { Invoke-Dotnet build --configuration $Configuration }
    'Test' { Invoke-Dotnet test --configuration $Configuration }
}
