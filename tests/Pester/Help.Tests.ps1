# The help of every cmdlet must be real, not the stub PowerShell generates: a synopsis, a description, a description
# for every parameter and at least three examples. It reads the compiled help that the build lays out beside the
# module (module/en-US, committed; HelpSource.Tests.ps1 checks it against the markdown).

BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
    $script:commands = (Get-Command -Module ProcessPool -CommandType Cmdlet).Name | Sort-Object
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Import-ProcessPoolModule
    $script:common = [System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters
}

Describe 'Help for <_>' -ForEach $commands {
    BeforeDiscovery {
        $parameters = (Get-Command $_).Parameters.Keys | Where-Object { $_ -notin ([System.Management.Automation.Cmdlet]::CommonParameters + [System.Management.Automation.Cmdlet]::OptionalCommonParameters) }
    }

    BeforeAll {
        $script:help = Get-Help $_ -Full
    }

    It 'has a synopsis of its own' {
        $help.Synopsis | Should -Not -BeNullOrEmpty
        $help.Synopsis.Trim() | Should -Not -Match ('^' + [regex]::Escape($_) + '\s+\[') -Because 'the generated stub is the syntax line'
    }

    It 'has a description' {
        ($help.Description.Text -join "`n").Trim().Length | Should -BeGreaterThan 40
    }

    It 'has at least three examples, each with code and an explanation' {
        $examples = @($help.Examples.Example)
        $examples.Count | Should -BeGreaterOrEqual 3
        foreach ($example in $examples) {
            $example.Code | Should -Not -BeNullOrEmpty
            ($example.Remarks.Text -join '').Trim() | Should -Not -BeNullOrEmpty
        }
    }

    It 'describes parameter <_>' -ForEach $parameters {
        $parameter = $help.Parameters.Parameter | Where-Object Name -EQ $_
        $parameter | Should -Not -BeNullOrEmpty -Because "the help must document -$_"
        ($parameter.Description.Text -join '').Trim() | Should -Not -BeNullOrEmpty -Because "-$_ needs a description"
    }
}

Describe 'about_ProcessPool' {
    It 'is installed and explains the semantics' {
        $topic = Get-Help about_ProcessPool | Out-String
        $topic | Should -Match 'at least once'
        $topic | Should -Match 'exactly once'
        $topic | Should -Match 'PoolItemFailed'
    }
}
